{{ config(enabled=adapter_enabled('segment')) }}

{{ cdp_identifies('segment_warehouse') }}
