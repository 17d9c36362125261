{{ config(enabled=adapter_enabled('segment')) }}

{{ cdp_tracks('segment_warehouse') }}
