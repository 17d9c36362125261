{#- One row per raw contract table: how many rows it holds, how old its newest event is as of
    `as_of`, and how many events arrived in the last day (or week) against its recent average.
    Feeds the raw_freshness and raw_volume suites. Each table is scanned once, here in the
    warehouse; Great Expectations validates the small result.

    The event-time column and the freshness windows are the ones `dbt source freshness` uses
    (each source's YAML: `loaded_at_field`, `warn_after`, `error_after`), so the two agree. The
    event time is parsed from text as staging parses it; events stamped after `as_of` do not
    count. A table with freshness switched off (a state export) is checked for rows only. -#}
{%- set hours_per = {'minute': 1 / 60, 'hour': 1, 'day': 24} -%}
{%- set lookback_days = var('checks__volume_lookback_days') -%}
{#- vendor sources (meta.vendor) reach staging through their adapters and landed__ views -#}
{%- set raw_tables = [] -%}
{%- for node in (graph.sources.values() | sort(attribute='unique_id') if execute else []) -%}
    {%- if not (node.config.meta or node.meta or {}).get('vendor') -%}
        {%- do raw_tables.append(node) -%}
    {%- endif -%}
{%- endfor -%}

with

landed as (
    {%- for node in raw_tables %}
        {%- set freshness = node.freshness or {} %}
        {%- set windows = [freshness.get('warn_after') or {}, freshness.get('error_after') or {}] %}
        {%- set is_stream = node.loaded_at_field is not none and windows | selectattr('count') | list | length > 0 %}
        {#- a source sent in weekly waves (email campaigns) is compared week with week: source
            meta `volume_window_days` (default 1) #}
        {%- set window_days = (node.config.meta or node.meta or {}).get('volume_window_days', 1) %}
        {%- set window_hours = {} %}
        {%- for window in ['warn_after', 'error_after'] %}
            {%- set spec = freshness.get(window) or {} %}
            {%- do window_hours.update({window: spec.count * hours_per[spec.period] if is_stream and spec.get('count') is not none else 'null'}) %}
        {%- endfor %}
        select
            '{{ node.source_name }}.{{ node.name }}' as source_table,
            {{ 'true' if is_stream else 'false' }} as is_stream,
            count(*) as row_count,
            {%- if is_stream %}
                max(case when event_at <= {{ as_of() }} then event_at end) as latest_at,
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
                cast(null as {{ dbt.type_timestamp() }}) as latest_at,
                cast(null as {{ dbt.type_int() }}) as window_days,
                cast(null as {{ dbt.type_bigint() }}) as window_events,
                cast(null as {{ dbt.type_numeric() }}) as baseline_window_events,
            {%- endif %}
            cast({{ window_hours.warn_after }} as {{ dbt.type_int() }}) as warn_after_hours,
            cast({{ window_hours.error_after }} as {{ dbt.type_int() }}) as error_after_hours
        from (
            select {{ safe_cast_timestamp(node.loaded_at_field) if is_stream else '1' }} as event_at
            from {{ source(node.source_name, node.name) }}
        ) as parsed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        source_table,
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
    from landed
)

select * from final
