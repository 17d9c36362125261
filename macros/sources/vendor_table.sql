{# Read one landed table as text columns, whatever is there: the columns asked for (a
   column the table lacks reads as null, as Fivetran's and Segment's packages fill columns a
   connector did not sync), and the lineage columns `_source_file`, `_source_row_number`,
   `_loaded_at`. A table that does not exist reads as no rows, so an adapter of a source a
   user does not have costs nothing and fails nothing.

   A nested column (a struct, list or map: GA4's event_params, Snowplow's contexts in a
   warehouse that keeps them typed) reads as its JSON text, as `audience load` lands nested
   parquet values.

   In a unit test of an adapter, the source's rows are the test's (format: sql): they hold
   the lineage columns and the columns named in var vendor_table__fixture_columns (every
   column asked for when the test does not set it).

   relation: a source() (or ref()), so the lineage graph shows what the adapter reads.
   columns: the names to select, lower case; a name may be given as {'name': alias,
       'from': [candidates]} to take the first candidate column the table has (vendors
       rename columns between API versions and connectors).
   loaded_at: columns that say when a row reached the warehouse when the table was not
       landed by `audience load` (Fivetran's `_fivetran_synced`, Segment's `uuid_ts`), the
       first one set wins; a row with none of them reads as loaded at 1970-01-01, and its
       incremental models then rebuild whenever its rows change. #}
{% macro vendor_table(relation, columns, loaded_at=['_fivetran_synced', 'uuid_ts', 'loaded_at', 'received_at']) -%}
    {%- set held = {} -%}
    {%- set nested = [] -%}
    {%- if execute and relation.schema is none -%}
        {#- a unit test's given rows (a CTE, given with format: sql since the vendor's table
            need not exist): they hold the lineage columns and the columns the test names in
            var vendor_table__fixture_columns (by default every column the adapter reads,
            under the first name of each) -#}
        {%- set found = relation -%}
        {%- set given = var('vendor_table__fixture_columns', none) -%}
        {%- if given is none -%}
            {%- set given = [] -%}
            {%- for spec in columns -%}
                {%- do given.append(spec if spec is string else spec['from'][0]) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- for name in given + ['_source_file', '_source_row_number', '_loaded_at'] -%}
            {%- do held.update({name: name}) -%}
        {%- endfor -%}
    {%- else -%}
        {%- set found = load_relation(relation) if execute else none -%}
    {%- endif -%}
    {%- if found is not none and found.schema is not none -%}
        {%- for column in adapter.get_columns_in_relation(found) -%}
            {%- do held.update({column.name | lower: column.name}) -%}
            {%- if _is_nested_type(column.dtype) -%}
                {%- do nested.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set text = dbt.type_string() -%}
    select
        {%- for spec in columns %}
            {%- set alias = spec if spec is string else spec['name'] -%}
            {%- set candidates = [spec] if spec is string else spec['from'] -%}
            {%- set present = candidates | select('in', held) | list %}
            {% if present and present[0] in nested -%}
                cast(to_json({{ adapter.quote(held[present[0]]) }}) as {{ text }})
            {%- elif present -%}
                cast({{ adapter.quote(held[present[0]]) }} as {{ text }})
            {%- else -%}
                cast(null as {{ text }})
            {%- endif %} as {{ alias }},
        {%- endfor %}
        {% if '_source_file' in held -%}
            cast({{ adapter.quote(held['_source_file']) }} as {{ text }})
        {%- else -%}
            cast('{{ found.schema ~ "." ~ found.identifier if found is not none else "" }}' as {{ text }})
        {%- endif %} as _source_file,
        {% if '_source_row_number' in held -%}
            cast({{ adapter.quote(held['_source_row_number']) }} as {{ dbt.type_bigint() }})
        {%- else -%}
            cast(null as {{ dbt.type_bigint() }})
        {%- endif %} as _source_row_number,
        {%- set stamps = (['_loaded_at'] + loaded_at) | select('in', held) | list %}
        coalesce(
            {%- for stamp in stamps %}
            {{ safe_cast_timestamp('cast(' ~ adapter.quote(held[stamp]) ~ ' as ' ~ text ~ ')') }},
            {%- endfor %}
            cast('1970-01-01 00:00:00' as {{ dbt.type_timestamp() }})
        ) as _loaded_at
    {%- if found is not none %}
    from {{ found }}
    {%- else %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{# A struct, list, array or map type, as the adapters name them (DuckDB `STRUCT(...)[]`,
   `MAP(...)`; Spark `array<...>`, `struct<...>`; PostgreSQL `ARRAY`, arrays `_text`). #}
{% macro _is_nested_type(dtype) -%}
    {%- set type = (dtype or '') | lower | trim -%}
    {{ return(type.startswith('struct') or type.startswith('map') or type.startswith('array')
        or type.startswith('list') or type.endswith(']') or type.startswith('_')) }}
{%- endmacro %}
