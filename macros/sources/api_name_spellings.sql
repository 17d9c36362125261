{# Columns for vendor_table that a vendor's connectors spell two ways: snake_case as Fivetran
   lands them (`has_opted_out_of_email`) or the API name as an export tool writes it
   (`HasOptedOutOfEmail`, which lands lower-cased as `hasoptedoutofemail`). Each name is given
   in snake_case and read from whichever spelling the table has. #}
{% macro api_name_spellings(names) -%}
    {%- set specs = [] -%}
    {%- for name in names -%}
        {%- if '_' in name -%}
            {%- do specs.append({'name': name, 'from': [name, name | replace('_', '')]}) -%}
        {%- else -%}
            {%- do specs.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(specs) }}
{%- endmacro %}
