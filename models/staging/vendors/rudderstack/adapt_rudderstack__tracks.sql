{{ config(enabled=adapter_enabled('rudderstack')) }}

{{ cdp_tracks('rudderstack') }}
