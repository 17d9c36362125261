{{ config(enabled=adapter_enabled('segment')) }}

{{ cdp_pages('segment_warehouse') }}
