{# The one instant every window is relative to (dbt var `as_of`, UTC). A build as of a past
   instant sees only what was known by then. #}
{% macro as_of() -%}
    cast('{{ var("as_of") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
