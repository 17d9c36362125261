{# The warehouse schema of event CDPs (Segment, RudderStack, and the tools that write their
   shape): one schema per source, with
     tracks        one row per track call, without its properties;
     <event>       one table per event (the snake_case event name; RudderStack puts _ in
                   front of an event's named like one of its own tables: _users), the
                   track's columns plus one column per property;
     pages         one row per page call, page properties as columns;
     screens       one row per screen call (mobile);
     identifies    one row per identify call, traits as columns (RudderStack also as
                   context_traits_<trait>);
     users         one row per user id: its latest traits;
     groups, aliases (not read: see the README).
   Every column of these tables that is not one of the call's standard fields or a context_
   field is a property (a trait). These macros find the tables and their payload columns;
   cdp_adapters.sql maps them onto the contract tables tracks, pages and identifies. #}

{# Columns of the call itself, not properties or traits (besides every context_* column). A
   track's `name` is a property (a product's), an identify's a trait (the person's). #}
{% macro cdp_standard_columns() -%}
    {{ return([
        'id', 'anonymous_id', 'user_id', 'event', 'event_text', 'timestamp',
        'original_timestamp', 'sent_at', 'received_at', 'uuid_ts', 'loaded_at', 'uuid', 'channel',
        'record_id', '_source_file', '_source_row_number', '_loaded_at', '_fivetran_synced',
        '_fivetran_deleted', '_fivetran_id',
    ]) }}
{%- endmacro %}

{# The tables the schema holds that are not per-event tables. #}
{% macro cdp_reserved_tables() -%}
    {{ return(['tracks', 'pages', 'screens', 'identifies', 'users', 'groups', 'aliases', 'accounts']) }}
{%- endmacro %}

{# Every table and view of the schema of `relation`, with its columns: a dict of table name
   (as the warehouse spells it) to lower-cased column names; empty when the schema does not
   exist, when dbt parses, and in a unit test (whose given rows are a CTE, not a schema). #}
{% macro cdp_schema_columns(relation) -%}
    {%- if not execute or relation.schema is none -%}
        {{ return({}) }}
    {%- endif -%}
    {{ return(adapter.dispatch('cdp_schema_columns', 'audience')(relation)) }}
{%- endmacro %}

{% macro default__cdp_schema_columns(relation) -%}
    {%- set query -%}
        select table_name, lower(column_name)
        from information_schema.columns
        where
            lower(table_schema) = lower('{{ relation.schema }}')
            {%- if relation.database %}
            and lower(table_catalog) = lower('{{ relation.database }}')
            {%- endif %}
        order by table_name, ordinal_position
    {%- endset -%}
    {%- set tables = {} -%}
    {%- for row in run_query(query).rows -%}
        {%- do tables.setdefault(row[0], []).append(row[1]) -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}

{# Spark has no information_schema: list the tables, then describe each. #}
{% macro spark__cdp_schema_columns(relation) -%}
    {%- set schemas = run_query('show schemas').columns[0].values() | map('lower') | list -%}
    {%- set tables = {} -%}
    {%- if relation.schema | lower in schemas -%}
        {%- for row in run_query('show tables in ' ~ relation.schema).rows -%}
            {%- set table = api.Relation.create(
                database=relation.database, schema=relation.schema, identifier=row[1]) -%}
            {%- do tables.update({row[1]: adapter.get_columns_in_relation(table)
                | map(attribute='name') | map('lower') | list}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(tables) }}
{%- endmacro %}

{# The per-event tables beside `tracks` (a source()): every table of its schema that is not
   one of the CDP's own tables and has the columns id and event. A list of
   {'relation': ..., 'columns': [lower-cased column, ...]}, by table name. #}
{% macro cdp_event_tables(tracks) -%}
    {%- set found = [] -%}
    {%- set schema_columns = cdp_schema_columns(tracks) -%}
    {%- for table in schema_columns | sort -%}
        {%- set columns = schema_columns[table] -%}
        {%- set name = table | lower -%}
        {%- if name not in cdp_reserved_tables() and name != tracks.identifier | lower
            and 'id' in columns and 'event' in columns -%}
            {%- do found.append({
                'relation': api.Relation.create(
                    database=tracks.database, schema=tracks.schema, identifier=table),
                'columns': columns,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{# The payload columns of a table (properties, traits) as vendor_table specs under safe
   aliases (payload_1, ...: a property may be named `order` or `3d_secure`), and the
   [key, alias] pairs of json_object_text. With `context_traits`, context_traits_<trait>
   columns count as the trait (the plain column first when both are there). #}
{% macro cdp_payload(columns, context_traits=false) -%}
    {%- set keys = [] -%}
    {%- set sources = {} -%}
    {%- for column in columns -%}
        {%- if column.startswith('context_traits_') and context_traits -%}
            {%- set key = column[15:] -%}
        {%- elif column in cdp_standard_columns() or column.startswith('context_') -%}
            {%- set key = none -%}
        {%- else -%}
            {%- set key = column -%}
        {%- endif -%}
        {%- if key -%}
            {%- if key not in sources -%}
                {%- do keys.append(key) -%}
                {%- do sources.update({key: []}) -%}
            {%- endif -%}
            {%- do sources[key].append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set specs = [] -%}
    {%- set pairs = [] -%}
    {%- for key in keys -%}
        {%- set aliases = [] -%}
        {%- for traits_column in [false, true] -%}
            {%- for column in sources[key] if column.startswith('context_traits_') == traits_column -%}
                {%- do aliases.append('payload_' ~ (specs | length + 1)) -%}
                {%- do specs.append({'name': aliases[-1], 'from': [column]}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do pairs.append([key, aliases[0] if aliases | length == 1
            else 'coalesce(' ~ aliases | join(', ') ~ ')']) -%}
    {%- endfor -%}
    {{ return({'specs': specs, 'pairs': pairs}) }}
{%- endmacro %}
