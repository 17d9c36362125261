{{ config(enabled=adapter_enabled('rudderstack')) }}

{{ cdp_identifies('rudderstack') }}
