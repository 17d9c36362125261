{# A numeric record id as text, the same however the warehouse typed it: a connector that
   types an id column as a float writes 2182162682 as '2182162682.0', which would then not
   join the same id typed as an integer. #}
{% macro vendor_id(expr) -%}
    nullif(regexp_replace(trim({{ expr }}), '[.]0+$', ''), '')
{%- endmacro %}
