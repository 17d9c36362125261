{# Casts YYYY-MM-DD text (or a timestamp text) to a date, or null when it does not parse. #}
{% macro safe_cast_date(expr) -%}
    cast({{ safe_cast_timestamp(expr) }} as date)
{%- endmacro %}
