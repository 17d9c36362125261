{{ config(enabled=adapter_enabled('rudderstack')) }}

{{ cdp_pages('rudderstack') }}
