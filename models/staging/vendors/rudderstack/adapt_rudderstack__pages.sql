{{ config(enabled=adapter_enabled('rudderstack', 'pages')) }}

{{ cdp_pages('rudderstack') }}
