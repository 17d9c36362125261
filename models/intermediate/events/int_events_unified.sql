{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={
        'column': 'occurred_at', 'mode': 'event', 'identity': 'events',
    },
    post_hook=["{{ remember_build_state(identity=true) }}"],
) }}
{#- Every behavioural event known by as_of, each with the contact it belongs to: the complete
    history of a person, anonymous visits before identification included. Incremental: a
    build replaces the days of its lookback window, and the events whose identifiers the
    identity map moved to another contact (macros/incremental/incremental_window.sql). -#}
with

events as (
    select * from {{ ref('int_events_unioned') }}
    where {{ in_incremental_window() }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
),

resolved as (
    -- web events: the user id names the person, the device's anonymous id only when no user
    -- id resolves; email events: the recipient
    select
        events.*,
        coalesce(by_user.contact_key, by_device.contact_key, by_email.contact_key) as contact_key
    from events
    left join identity_map as by_user
        on by_user.identifier_type = 'user_id' and events.user_id = by_user.identifier
    left join identity_map as by_device
        on by_device.identifier_type = 'anonymous_id' and events.anonymous_id = by_device.identifier
    left join identity_map as by_email
        on by_email.identifier_type = 'email' and events.email = by_email.identifier
),

final as (
    select
        -- ids
        event_id,
        contact_key,
        anonymous_id,
        user_id,
        email,

        -- event
        event_source,
        event_name,
        -- activity a person chose to do: sends, deliveries and privacy-proxy opens are not
        event_source <> 'email_events'
        or (event_name = 'Email Opened' and not is_machine_open)
        or event_name = 'Email Clicked' as is_meaningful_activity,
        is_machine_open,
        path,
        url,
        page_category,
        funnel_stage,
        product_category,
        order_id,
        revenue,
        discount,
        coupon,
        campaign_id,
        message_id,
        session_id,
        engaged_seconds,

        -- timestamps
        occurred_at,
        received_at
    from resolved
)

select * from final
