{# The `reason` text of a membership, from literal parts ('quoted') and SQL expressions
   (cast to text), e.g. segment_reason("'viewed pricing '", 'times', "' times'"). #}
{% macro segment_reason() -%}
    {%- set parts = [] -%}
    {%- for part in varargs -%}
        {%- if part.startswith("'") -%}
            {%- do parts.append(part) -%}
        {%- else -%}
            {%- do parts.append("coalesce(" ~ dbt.cast(part, dbt.type_string()) ~ ", '?')") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
