{# A fingerprint of the fields a sync sends: the sync compares it with the fingerprint it
   last delivered and sends the record only when they differ. Nulls and empty strings are
   told apart. #}
{% macro payload_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce('v' || cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), 'n')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
