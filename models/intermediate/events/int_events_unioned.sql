{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    post_hook=["{{ remember_build_state() }}"],
    incremental_window={'column': 'occurred_at', 'mode': 'event'},
) }}
{#- Every behavioural event known by as_of (page views, tracked events, email events) in
    one shape, with the identifiers it carries: what identity resolution reads, and what
    int_events_unified gives a contact. A build as of a past instant counts no event that
    happened, or reached the warehouse, after it (its received_at, else when it happened:
    macros/time/arrived_at.sql; report_arrivals counts what it left out). Incremental: a build replaces the days of
    its lookback window (macros/incremental/incremental_window.sql). -#}
with

pages as (
    select * from {{ ref('stg_segment__pages') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
        and {{ in_incremental_window() }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
        and {{ in_incremental_window() }}
),

email_events as (
    -- received_at: when it happened (the webhook carries no arrival time)
    select * from {{ ref('stg_esp__email_events') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
        and {{ in_incremental_window() }}
),

web_events as (
    select
        {{ dbt.concat(["'page:'", 'page_view_id']) }} as event_id,
        'pages' as event_source,
        'Page Viewed' as event_name,
        false as is_unmapped_event,
        anonymous_id,
        user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        path,
        url,
        page_category,
        funnel_stage,
        cast(null as {{ dbt.type_string() }}) as product_category,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_float() }}) as revenue,
        cast(null as {{ dbt.type_float() }}) as discount,
        cast(null as {{ dbt.type_string() }}) as coupon,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as bounce_type,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_group_id,
        cast(null as {{ dbt.type_string() }}) as drop_reason,
        session_id,
        engaged_seconds,
        last_active_at,
        occurred_at,
        received_at
    from pages
    union all
    select
        {{ dbt.concat(["'track:'", 'track_id']) }} as event_id,
        'tracks' as event_source,
        event_name,
        is_unmapped_event,
        anonymous_id,
        user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as path,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        product_category,
        order_id,
        revenue,
        discount,
        coupon,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as message_id,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as bounce_type,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_group_id,
        cast(null as {{ dbt.type_string() }}) as drop_reason,
        session_id,
        cast(null as {{ type_double() }}) as engaged_seconds,
        cast(null as {{ dbt.type_timestamp() }}) as last_active_at,
        occurred_at,
        received_at
    from tracks
),

email_events_unioned as (
    select
        {{ dbt.concat(["'email:'", 'email_events.email_event_id']) }} as event_id,
        'email_events' as event_source,
        email_events.event_name,
        email_events.is_unmapped_event,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        email_events.email,
        email_events.crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as path,
        email_events.url,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        cast(null as {{ dbt.type_string() }}) as product_category,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_float() }}) as revenue,
        cast(null as {{ dbt.type_float() }}) as discount,
        cast(null as {{ dbt.type_string() }}) as coupon,
        email_events.campaign_id,
        email_events.message_id,
        email_events.is_machine_open,
        email_events.bounce_type,
        email_events.unsubscribe_group_id,
        email_events.drop_reason,
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ type_double() }}) as engaged_seconds,
        cast(null as {{ dbt.type_timestamp() }}) as last_active_at,
        email_events.occurred_at,
        email_events.received_at
    from email_events
),

final as (
    select * from web_events
    union all
    select * from email_events_unioned
)

select * from final
