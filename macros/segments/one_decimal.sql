{# A score as a one-decimal number, so that it reads the same in a reason text on every
   engine (a double prints as '0.0' on DuckDB and '0' on PostgreSQL). #}
{% macro one_decimal(expr) -%}
    cast({{ expr }} as numeric(10, 1))
{%- endmacro %}
