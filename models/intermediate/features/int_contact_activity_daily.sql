{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={'column': 'last_at', 'mode': 'event', 'identity': 'contacts'},
    post_hook=["{{ remember_build_state(identity=true) }}"],
) }}
{#- The daily rollup every behavioural feature and score reads: how often a contact did each
    signal on each day. Signals are page categories for page views and canonical events for
    tracked and email events; privacy-proxy opens are their own signal so they can weigh
    nothing. Incremental: a build replaces the days of its lookback window, and every day of
    the contacts the identity map changed (macros/incremental/incremental_window.sql). -#}
with

events as (
    select * from {{ ref('int_events_unified') }}
    where {{ in_incremental_window(column='occurred_at') }}
),

signals as (
    select
        contact_key,
        cast(occurred_at as date) as activity_date,
        case when event_source = 'pages' then 'page_category' else 'event' end as signal_type,
        case
            when event_source = 'pages' then page_category
            when is_machine_open then 'Email Opened (machine)'
            else event_name
        end as signal,
        coalesce(product_category, '') as signal_detail,
        is_meaningful_activity,
        occurred_at
    from events
),

final as (
    select
        -- grain
        contact_key,
        activity_date,
        signal_type,
        signal,
        signal_detail,

        -- measures
        count(*) as events,
        max(case when is_meaningful_activity then 1 else 0 end) = 1 as is_meaningful_activity,

        -- timestamps
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from signals
    group by contact_key, activity_date, signal_type, signal, signal_detail
)

select * from final
