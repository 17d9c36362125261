{{ config(enabled=adapter_enabled('rudderstack', 'tracks')) }}

{{ cdp_tracks('rudderstack') }}
