{# The path of a URL: without scheme and host, query and fragment
   ('https://www.example.com/pricing?utm_source=news' -> '/pricing'); null when nothing is left
   (staging reads a missing path as '/'). For vendors that send the URL alone (GA4's
   page_location). The patterns are anchored, so each engine's regexp_replace (the first
   match, or every match) replaces the same text. #}
{% macro url_path(url) -%}
    nullif(regexp_replace(
        regexp_replace({{ url }}, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', ''),
        '[?#].*$', ''
    ), '')
{%- endmacro %}
