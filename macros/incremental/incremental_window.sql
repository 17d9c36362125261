{# Incremental models reprocess a window and replace it, so a daily build costs what the new
   data costs. A model opts in with

       materialized='incremental', incremental_strategy='replace_window',
       incremental_window={'column': ..., 'mode': ..., ...}

   and filters its input with `where {{ in_incremental_window() }}`. The modes:

   'load' (staging base models): the window is the rows of the model's one landed table
   (landed__<table>: the contract table and every vendor adapter's rows) loaded after the newest `_loaded_at` the model holds. When the raw table holds a different number of
   rows up to that instant than the model (a file was re-loaded, or `load --replace`
   emptied the table), the window is everything: the model is rebuilt from raw in place.

   'event' (event models): the window is every row whose `column` is on or after the day
   var `incremental__lookback_days` days before the newest one the model holds, so an
   event that reached the warehouse late but inside the lookback is picked up. When the
   model holds a row later than as_of (the build is as of an earlier instant than the one
   before), the window is everything.

   'key' (models of a key such as a contact's visits or a message's delivery): the window is
   every row of each `key` (e.g. contact_key, message_id) with an event inside the event
   window of `events_model` (its column 'events_column', rows matching 'events_filter').

   Setting 'identity': 'events' or 'contacts' adds the rows the identity map moved since the
   model's last build: events carrying an identifier whose contact changed, or every row
   of a contact that gained or lost an identifier.

   After a load that took rows out of raw (a re-loaded file, `load --replace`: column
   rows_replaced of raw._load_log) every incremental model rebuilds, whatever its mode.
   Each model keeps what it needs for this beside it, written by its post-hook
   remember_build_state: `<model>__build_state` (the newest load it has seen) and, with
   setting 'identity', `<model>__identity_applied` (the identity map it applied).

   The same window decides what the model selects and what replace_window deletes, so the
   table ends up as a full rebuild would leave it, for every change inside the window. #}

{% macro incremental_window(column=none) -%}
    {%- set settings = config.get('incremental_window') or {} -%}
    {%- set full = {'full': true, 'column': settings.get('column'), 'predicate': '(1 = 1)'} -%}
    {%- if not _is_incremental_run() -%}
        {{ return(full) }}
    {%- endif -%}
    {%- if _raw_replaced_since_last_build() -%}
        {{ return(full) }}
    {%- endif -%}
    {%- set mode = settings.get('mode') -%}
    {%- if mode == 'load' -%}
        {%- set window = _load_window(settings['column'], _raw_source()) -%}
    {%- else -%}
        {%- set window = _event_window(settings['column']) -%}
    {%- endif -%}
    {%- if window is none -%}
        {{ return(full) }}
    {%- endif -%}
    {%- set predicate = window -%}
    {%- if mode == 'key' -%}
        {%- set key = settings['key'] -%}
        {%- set predicate = key ~ ' in (select ' ~ key ~ ' from ' ~ ref(settings['events_model'])
            ~ ' where ' ~ settings['events_column'] ~ ' >= ' ~ window
            ~ (' and ' ~ settings['events_filter'] if settings.get('events_filter') else '') ~ ')' -%}
    {%- else -%}
        {%- set predicate = (column or settings['column']) ~ (' > ' if mode == 'load' else ' >= ') ~ window -%}
    {%- endif -%}
    {%- if settings.get('identity') -%}
        {%- set changed = _identity_changed(settings['identity']) -%}
        {%- if changed is none -%}
            {{ return(full) }}
        {%- endif -%}
        {%- set predicate = predicate ~ ' or ' ~ changed -%}
    {%- endif -%}
    {{ return({'full': false, 'column': settings['column'], 'predicate': '(' ~ predicate ~ ')'}) }}
{%- endmacro %}

{# An incremental build of a model that exists (not a full build, a parse or a unit test,
   whose rows are given: unit tests of these models test the full build). #}
{% macro _is_incremental_run() -%}
    {{ return(execute and this is not none and model.resource_type == 'model' and is_incremental()) }}
{%- endmacro %}

{# The landed rows a staging base model reads: its one landed__<table> model (every vendor's
   rows of the contract table) or, for a table no vendor feeds, its one raw source. #}
{% macro _raw_source() -%}
    {%- set upstream = [] -%}
    {%- for node in model.depends_on.nodes
        if node.startswith('source.') or node.split('.')[-1].startswith('landed__') -%}
        {%- do upstream.append(node) -%}
    {%- endfor -%}
    {%- if upstream | length != 1 -%}
        {{ exceptions.raise_compiler_error(this ~ ": an incremental model of mode 'load' reads one "
            ~ "landed table, not " ~ upstream | length) }}
    {%- endif -%}
    {%- if upstream[0].startswith('source.') -%}
        {%- set node = graph.sources[upstream[0]] -%}
        {{ return(source(node.source_name, node.name)) }}
    {%- endif -%}
    {{ return(ref(upstream[0].split('.')[-1])) }}
{%- endmacro %}

{% macro _load_window(column, raw_relation) -%}
    {%- set held = run_query('select max(' ~ column ~ '), count(*) from ' ~ this).rows[0] -%}
    {%- if held[0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set watermark = _timestamp_literal(held[0]) -%}
    {%- set raw_rows = run_query(
        'select count(*) from ' ~ raw_relation ~ ' where ' ~ column ~ ' <= ' ~ watermark
    ).rows[0][0] -%}
    {%- if raw_rows != held[1] -%}
        {{ log(this ~ ': the raw rows loaded up to ' ~ held[0] ~ ' changed (' ~ held[1]
            ~ ' held, ' ~ raw_rows ~ ' in raw): rebuilding it from raw', info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {{ return(watermark) }}
{%- endmacro %}

{% macro _event_window(column) -%}
    {%- set newest = run_query('select max(' ~ column ~ ') from ' ~ this).rows[0][0] -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set later = run_query(
        'select case when ' ~ _timestamp_literal(newest) ~ ' > ' ~ as_of() ~ ' then 1 else 0 end'
    ).rows[0][0] -%}
    {%- if later == 1 -%}
        {{ log(this ~ ': holds rows later than as_of ' ~ as_of_text()
            ~ ': rebuilding it as of then', info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {{ return(dbt.date_trunc('day', dbt.dateadd(
        'day', -var('incremental__lookback_days'), _timestamp_literal(newest)))) }}
{%- endmacro %}

{% macro _timestamp_literal(value) -%}
    {{ return("cast('" ~ value.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{# A predicate over the identifiers (identity='events') or contact_key (identity='contacts')
   of the rows the identity map moved since this model last applied it; none when that map
   is not known (the model is then rebuilt). #}
{% macro _identity_changed(kind) -%}
    {%- set applied = _identity_applied_relation() -%}
    {%- if load_relation(applied) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set changes -%}
        select
            coalesce(current_map.identifier_type, applied.identifier_type) as identifier_type,
            coalesce(current_map.identifier, applied.identifier) as identifier,
            applied.contact_key as applied_contact_key,
            current_map.contact_key
        from {{ ref('identity_map') }} as current_map
        full outer join {{ applied }} as applied
            on
                current_map.identifier_type = applied.identifier_type
                and current_map.identifier = applied.identifier
        where
            current_map.contact_key is null
            or applied.contact_key is null
            or current_map.contact_key <> applied.contact_key
    {%- endset -%}
    {%- if kind == 'events' -%}
        {%- set parts = [] -%}
        {%- for column in ['user_id', 'anonymous_id', 'email', 'crm_contact_id'] -%}
            {%- do parts.append(column ~ ' in (select identifier from (' ~ changes
                ~ ') as changes where identifier_type = \'' ~ column ~ '\')') -%}
        {%- endfor -%}
        {{ return(parts | join(' or ')) }}
    {%- endif -%}
    {{ return('contact_key in (select applied_contact_key from (' ~ changes ~ ') as changes'
        ~ ' union all select contact_key from (' ~ changes ~ ') as changes)') }}
{%- endmacro %}

{% macro _identity_applied_relation() -%}
    {{ return(_beside_this('identity_applied')) }}
{%- endmacro %}

{% macro _beside_this(suffix) -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__' ~ suffix)) }}
{%- endmacro %}

{% macro _load_log() -%}
    {{ return(load_relation(api.Relation.create(
        database=this.database, schema=var('raw_schema'), identifier='_load_log'))) }}
{%- endmacro %}

{# True when a load took rows out of raw after the model's last build (or that is unknown). #}
{% macro _raw_replaced_since_last_build() -%}
    {%- set state = load_relation(_beside_this('build_state')) -%}
    {%- if state is none -%}
        {{ log(this ~ ': no build state beside it: rebuilding it', info=true) }}
        {{ return(true) }}
    {%- endif -%}
    {%- set load_log = _load_log() -%}
    {%- if load_log is none or 'rows_replaced' not in (
        adapter.get_columns_in_relation(load_log) | map(attribute='name') | map('lower') | list
    ) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set replaced = run_query(
        'select count(*) from ' ~ load_log ~ ' cross join ' ~ state
        ~ ' where ' ~ load_log ~ '.rows_replaced > 0 and (' ~ state ~ '.last_load_at is null or '
        ~ load_log ~ '.loaded_at > ' ~ state ~ '.last_load_at)'
    ).rows[0][0] -%}
    {%- if replaced > 0 -%}
        {{ log(this ~ ': a load replaced raw rows since its last build: rebuilding it', info=true) }}
    {%- endif -%}
    {{ return(replaced > 0) }}
{%- endmacro %}

{# Post-hook of every incremental model: keep the newest load it has seen and, for the
   models with setting 'identity' (identity=true), the identity map it applied. The tables
   are written one statement at a time (Spark takes no multi-statement SQL). #}
{% macro remember_build_state(identity=false) -%}
    {#- ref at parse time too: that is where dbt learns the dependency -#}
    {%- set identity_map = ref('identity_map') if identity else none -%}
    {%- if execute -%}
        {%- set state = _beside_this('build_state') -%}
        {%- set load_log = _load_log() -%}
        {%- do run_query('drop table if exists ' ~ state) -%}
        {%- do run_query('create table ' ~ state ~ ' as select ' ~ (
            'max(loaded_at) as last_load_at from ' ~ load_log if load_log is not none
            else 'cast(null as ' ~ dbt.type_timestamp() ~ ') as last_load_at')) -%}
        {%- if identity -%}
            {%- set applied = _identity_applied_relation() -%}
            {%- do run_query('drop table if exists ' ~ applied) -%}
            {%- do run_query('create table ' ~ applied ~ ' as select identifier_type, '
                ~ 'identifier, contact_key from ' ~ identity_map) -%}
        {%- endif -%}
    {%- endif -%}
    select 1 as build_state_remembered
{%- endmacro %}

{# The filter an incremental model puts on its input (true on a full build); `column`: the
   input's name for the window column, when it differs. #}
{% macro in_incremental_window(column=none) -%}
    {{ incremental_window(column)['predicate'] }}
{%- endmacro %}

{# The strategy: delete the window from the table, insert what the model selected for it. #}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_replace_window_sql', 'audience')(arg_dict)) }}
{%- endmacro %}

{% macro default__get_incremental_replace_window_sql(arg_dict) -%}
    {%- set window = incremental_window() -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }} where {{ window['predicate'] }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{# Spark runs one statement at a time, so this returns the list the incremental
   materialization of macros/incremental/spark_incremental.sql runs in order. Delta, Iceberg
   and Hudi tables take DELETE; a plain parquet table has none, so the kept rows and the
   window's new rows are written to a side table that then overwrites the model's table.
   The new rows are a table, not a view: a view would read the model after the delete. #}
{% macro spark__get_incremental_replace_window_sql(arg_dict) -%}
    {%- set window = incremental_window() -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set file_format = config.get('file_format', default='parquet') -%}
    {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
        {{ return([
            'delete from ' ~ target ~ ' where ' ~ window['predicate'],
            'insert into ' ~ target ~ ' (' ~ columns ~ ') select ' ~ columns ~ ' from '
                ~ arg_dict['temp_relation'],
        ]) }}
    {%- endif -%}
    {%- set rebuilt = _beside_this('dbt_window') -%}
    {{ return([
        'drop table if exists ' ~ rebuilt,
        'create table ' ~ rebuilt ~ ' using ' ~ file_format ~ ' as select ' ~ columns ~ ' from '
            ~ target ~ ' where not coalesce(' ~ window['predicate'] ~ ', false) union all select '
            ~ columns ~ ' from ' ~ arg_dict['temp_relation'],
        'insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ rebuilt,
        'drop table if exists ' ~ rebuilt,
    ]) }}
{%- endmacro %}

{# The ids a staging base model accepted in earlier builds and keeps: a new row with one of
   them is a duplicate. None when the build rebuilds the model from raw (a full build, or an
   incremental run whose window is everything after a re-load): the rows it held are about to
   be replaced, so comparing against them would mark every row a duplicate of itself. #}
{% macro held_good_ids(id_column) -%}
    {%- if _is_incremental_run() and not incremental_window()['full'] -%}
        {{ return('select ' ~ id_column ~ ' from ' ~ this ~ ' where quarantine_reason is null') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
