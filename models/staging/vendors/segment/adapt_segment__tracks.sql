{{ config(enabled=adapter_enabled('segment', 'tracks')) }}

{{ cdp_tracks('segment_warehouse') }}
