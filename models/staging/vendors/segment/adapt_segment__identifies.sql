{{ config(enabled=adapter_enabled('segment', 'identifies')) }}

{{ cdp_identifies('segment_warehouse') }}
