{# The row's number in its landed table: `audience load` numbers the rows of each file; a
   table a connector wrote (Fivetran) has no row numbers, so its rows are numbered by the
   vendor's record id (through its hash, an order every engine and collation agrees on).
   Staging tells raw rows apart by file and row number: without it, two versions of one record
   could not be marked duplicate_id, nor a quarantined row found again. Use on the output of
   vendor_table, one table at a time. #}
{% macro vendor_row_number(key) -%}
    coalesce(
        _source_row_number,
        row_number() over (partition by _source_file order by {{ dbt.hash(key) }}, {{ key }})
    )
{%- endmacro %}
