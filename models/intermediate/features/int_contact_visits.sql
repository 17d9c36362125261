{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={
        'column': 'visit_ended_at', 'mode': 'key', 'key': 'contact_key', 'identity': 'contacts',
        'events_model': 'int_events_unified', 'events_column': 'occurred_at',
        'events_filter': "event_source = 'pages'",
    },
    post_hook=["{{ remember_build_state(identity=true) }}"],
) }}
{#- Page views grouped into visits (a gap of more than var visits__session_gap_minutes starts a
    new one), each with the gap since the contact's visit before: the return-visit patterns
    read it. Incremental: a build replaces the visits of the contacts with a page view in its
    window, and of the contacts the identity map changed. -#}
with

page_views as (
    select
        contact_key,
        occurred_at
    from {{ ref('int_events_unified') }}
    where
        event_source = 'pages'
        and {{ in_incremental_window() }}
),

gaps as (
    select
        contact_key,
        occurred_at,
        lag(occurred_at) over (partition by contact_key order by occurred_at) as previous_view_at
    from page_views
),

flagged as (
    select
        contact_key,
        occurred_at,
        case
            when previous_view_at is null then 1
            when {{ dbt.datediff('previous_view_at', 'occurred_at', 'minute') }}
                > {{ var('visits__session_gap_minutes') }} then 1
            else 0
        end as is_visit_start
    from gaps
),

numbered as (
    select
        contact_key,
        occurred_at,
        sum(is_visit_start) over (
            partition by contact_key order by occurred_at rows between unbounded preceding and current row
        ) as visit_number
    from flagged
),

visits as (
    select
        contact_key,
        visit_number,
        min(occurred_at) as visit_started_at,
        max(occurred_at) as visit_ended_at,
        count(*) as page_views
    from numbered
    group by contact_key, visit_number
),

final as (
    select
        -- ids
        {{ dbt.concat(['contact_key', "'|'", dbt.cast('visit_number', dbt.type_string())]) }} as visit_id,
        contact_key,
        visit_number,

        -- measures
        page_views,
        {{ dbt.datediff(
            'lag(visit_ended_at) over (partition by contact_key order by visit_number)',
            'visit_started_at', 'hour')
        }} as hours_since_previous_visit,

        -- timestamps
        visit_started_at,
        visit_ended_at
    from visits
)

select * from final
