{# The `_source_row_number` of an adapter's contract row. Staging tells raw rows apart by file
   and row number (dedupe, quarantine ids, the uniqueness test of every base model), so a row
   read from a table `audience load` did not land (a Fivetran table, a webhook receiver's
   table: vendor_table reads its row number as null) is numbered within its table by load
   time, then by the vendor's record id `order_by` (through its hash, an order every engine
   and collation agrees on): new rows of a later sync number after the rows already held. Rows
   `audience load` landed keep the row of their file. Use on the output of vendor_table, one
   table at a time.

   renumber: number every row within its file, also the landed ones (by file row, load time,
   then `order_by`), for an adapter that makes more than one contract row of one vendor row
   (a HubSpot status change of several subscriptions). #}
{% macro vendor_row_number(order_by, renumber=false) -%}
    {#- order_by: an expression, or a list of them (hashed together) -#}
    {%- set keys = [order_by] if order_by is string else order_by -%}
    {%- set parts = [] -%}
    {%- for key in keys -%}
        {%- do parts.append("coalesce(cast(" ~ key | trim ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {%- set numbered -%}
        row_number() over (
            partition by _source_file
            order by {% if renumber %}_source_row_number, {% endif %}_loaded_at, {{ dbt.hash(dbt.concat(parts)) }}, {{ keys | join(', ') }}
        )
    {%- endset -%}
    {%- if renumber -%}
        {{ numbered }}
    {%- else -%}
        coalesce(_source_row_number, {{ numbered }})
    {%- endif -%}
{%- endmacro %}
