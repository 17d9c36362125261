{# Layers get plain schema names (raw, staging, intermediate, marts, seeds) so BI users and
   syncs see the same names on every target; a model without a custom schema goes to the
   target's schema. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
