{# Trims text and turns the empty string into null, so "missing" has one spelling. #}
{% macro clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}
