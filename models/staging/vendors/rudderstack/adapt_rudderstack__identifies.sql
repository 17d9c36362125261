{{ config(enabled=adapter_enabled('rudderstack', 'identifies')) }}

{{ cdp_identifies('rudderstack') }}
