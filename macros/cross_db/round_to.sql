{# Rounds to `digits` decimals and returns a double: PostgreSQL rounds only numerics to a
   number of decimals, and doubles compare and sum the same way on every engine. #}
{% macro round_to(expr, digits) -%}
    cast(round(cast({{ expr }} as {{ dbt.type_numeric() }}), {{ digits }}) as {{ type_double() }})
{%- endmacro %}
