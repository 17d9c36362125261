{#- One row per raw table a user provides: how many rows it holds, how old its newest event
    (or record change) is as of `as_of`, and for an event stream how many events arrived in the
    last day (or week) against its recent average. Feeds the raw_freshness and raw_volume
    suites. Each table is scanned once, here in the warehouse; Great Expectations validates the
    small result.

    The tables: every contract table in the raw schema and every table of an enabled vendor
    source (meta.vendor) that holds rows or that `audience load` loaded a file into. A table
    that does not exist is not provided (a B2C shop has no CRM, a team without SendGrid has no
    raw_sendgrid), and neither is an empty table no file was loaded into (`audience load`
    creates every contract table; a connector creates tables an account does not use): neither
    is checked. A provided table that is empty (its file was empty) fails "holds rows".

    The event-time column and the freshness windows are the ones `dbt source freshness` uses
    (each source's YAML: `loaded_at_field`, `warn_after`, `error_after`), so the two agree. The
    event time is parsed from text as staging parses it (ISO or epoch); events stamped after
    `as_of` do not count, so a replay as of a past instant is judged on what existed then. A
    state export (source or table meta `kind: state`: CRM contacts, companies, deals, contracts)
    is a picture of records, not a stream of events: its age is its newest record change, with
    windows of its own (weekly exports are normal), and its volume is only "holds rows". A
    table with freshness switched off is checked for rows only. -#}
{%- set hours_per = {'minute': 1 / 60, 'hour': 1, 'day': 24} -%}
{%- set lookback_days = var('checks__volume_lookback_days') -%}
{%- set raw_tables = [] -%}
{%- for node in (graph.sources.values() | sort(attribute='unique_id') if execute else []) -%}
    {%- if load_relation(source(node.source_name, node.name)) is not none -%}
        {%- do raw_tables.append(node) -%}
    {%- endif -%}
{%- endfor -%}
{%- set load_log = load_relation(api.Relation.create(database=target.database, schema=var('raw_schema', 'raw'), identifier='_load_log')) if execute else none -%}

with

landed as (
    {%- for node in raw_tables %}
        {%- set freshness = node.freshness or {} %}
        {%- set windows = [freshness.get('warn_after') or {}, freshness.get('error_after') or {}] %}
        {%- set meta = node.config.meta or node.meta or {} %}
        {%- set checks_age = node.loaded_at_field is not none and windows | selectattr('count') | list | length > 0 %}
        {%- set is_stream = checks_age and meta.get('kind', 'stream') == 'stream' %}
        {#- a source sent in weekly waves (email campaigns) is compared week with week: source
            meta `volume_window_days` (default 1) #}
        {%- set window_days = meta.get('volume_window_days', 1) %}
        {%- set window_hours = {} %}
        {%- for window in ['warn_after', 'error_after'] %}
            {%- set spec = freshness.get(window) or {} %}
            {%- do window_hours.update({window: spec.count * hours_per[spec.period] if checks_age and spec.get('count') is not none else 'null'}) %}
        {%- endfor %}
        select
            '{{ node.source_name }}.{{ node.name }}' as source_table,
            {#- the load log names a contract table plainly, a vendor's as schema.table #}
            '{{ node.schema ~ "." ~ node.identifier if meta.get('vendor') else node.name }}' as table_name,
            {{ 'true' if meta.get('vendor') else 'false' }} as is_vendor,
            {{ 'true' if checks_age else 'false' }} as checks_age,
            {{ 'true' if is_stream else 'false' }} as is_stream,
            count(*) as row_count,
            {%- if checks_age %}
                max(case when event_at <= {{ as_of() }} then event_at end) as latest_at,
            {%- else %}
                cast(null as {{ dbt.type_timestamp() }}) as latest_at,
            {%- endif %}
            {%- if is_stream %}
                {{ window_days }} as window_days,
                cast(sum(case
                    when event_at >= {{ dbt.dateadd('hour', -24 * window_days, as_of()) }} and event_at <= {{ as_of() }}
                        then 1
                    else 0
                end) as {{ dbt.type_bigint() }}) as window_events,
                sum(case
                    when
                        event_at >= {{ dbt.dateadd('hour', -24 * (window_days + lookback_days), as_of()) }}
                        and event_at < {{ dbt.dateadd('hour', -24 * window_days, as_of()) }}
                        then 1
                    else 0
                end) * {{ window_days }}.0 / {{ lookback_days }} as baseline_window_events,
            {%- else %}
                cast(null as {{ dbt.type_int() }}) as window_days,
                cast(null as {{ dbt.type_bigint() }}) as window_events,
                cast(null as {{ dbt.type_numeric() }}) as baseline_window_events,
            {%- endif %}
            cast({{ window_hours.warn_after }} as {{ dbt.type_int() }}) as warn_after_hours,
            cast({{ window_hours.error_after }} as {{ dbt.type_int() }}) as error_after_hours
        from (
            select {{ safe_cast_timestamp('cast(' ~ node.loaded_at_field ~ ' as ' ~ dbt.type_string() ~ ')') if checks_age else '1' }} as event_at
            from {{ source(node.source_name, node.name) }}
        ) as parsed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not raw_tables %}
        select
            'none' as source_table,
            'none' as table_name,
            false as is_vendor,
            false as checks_age,
            false as is_stream,
            0 as row_count,
            cast(null as {{ dbt.type_timestamp() }}) as latest_at,
            cast(null as {{ dbt.type_int() }}) as window_days,
            cast(null as {{ dbt.type_bigint() }}) as window_events,
            cast(null as {{ dbt.type_numeric() }}) as baseline_window_events,
            cast(null as {{ dbt.type_int() }}) as warn_after_hours,
            cast(null as {{ dbt.type_int() }}) as error_after_hours
        where 1 = 0
    {%- endif %}
),

provided as (
    select * from landed
    where
        row_count > 0
        or table_name in (
            {%- if load_log is not none %}
                select table_name from {{ load_log }}
            {%- else %}
                select 'none' as table_name
                where 1 = 0
            {%- endif %}
        )
),

final as (
    select
        source_table,
        checks_age,
        is_stream,
        row_count,
        latest_at,
        {{ round_to(dbt.datediff('latest_at', as_of(), 'second') ~ ' / 3600.0', 1) }} as age_hours,
        warn_after_hours,
        error_after_hours,
        window_days,
        window_events,
        {{ round_to('baseline_window_events', 1) }} as baseline_window_events,
        -- too few events a window to tell a drop from noise: no ratio, no verdict
        case
            when baseline_window_events >= {{ var('checks__volume_min_daily_events') }} * window_days
                then {{ round_to('window_events / baseline_window_events', 2) }}
        end as window_ratio
    from provided
)

select * from final
