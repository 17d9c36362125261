{{ config(enabled=adapter_enabled('segment', 'pages')) }}

{{ cdp_pages('segment_warehouse') }}
