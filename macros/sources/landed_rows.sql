{# Every landed row of one contract table: the contract table as `audience load` lands it
   (source `<source>.<table>`, schema var raw_schema) and the rows each enabled vendor adapter
   maps onto it (source_adapters), with the same text columns and lineage columns. The staging
   base model of the table reads this, so every row, whatever its vendor, is parsed, checked,
   quarantined and deduplicated by one set of rules. #}
{% macro landed_rows(table) -%}
    {%- set spec = contract_tables()[table] -%}
    {%- set columns = spec['columns'] + ['_source_file', '_source_row_number', '_loaded_at'] -%}
    select * from (
        {{ vendor_table(source(spec['source'], table), spec['columns'], loaded_at=[]) }}
    ) as contract_rows
    {%- for model in source_adapters(table) %}
    union all
    select {{ columns | join(', ') }}
    from {{ ref(model) }}
    {%- endfor %}
{%- endmacro %}
