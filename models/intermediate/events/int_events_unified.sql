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
    -- id resolves; email events: the recipient, else the CRM contact the ESP names
    select
        events.*,
        coalesce(by_user.contact_key, by_device.contact_key, by_email.contact_key, by_crm.contact_key)
            as contact_key
    from events
    left join identity_map as by_user
        on by_user.identifier_type = 'user_id' and events.user_id = by_user.identifier
    left join identity_map as by_device
        on by_device.identifier_type = 'anonymous_id' and events.anonymous_id = by_device.identifier
    left join identity_map as by_email
        on by_email.identifier_type = 'email' and events.email = by_email.identifier
    left join identity_map as by_crm
        on by_crm.identifier_type = 'crm_contact_id' and events.crm_contact_id = by_crm.identifier
),

final as (
    select
        -- ids
        event_id,
        contact_key,
        anonymous_id,
        user_id,
        email,
        crm_contact_id,

        -- event
        event_source,
        event_name,
        -- a name seeds/event_name_map.csv does not map (yet): kept under its normalized spelling
        is_unmapped_event,
        -- activity a person chose to do: an open (not a privacy proxy's) or a click of an
        -- email, and any mapped web event but what an ESP reports about its sends (sent,
        -- delivered, deferred, bounced, dropped, complaints and unsubscribes, which a
        -- tracking source may relay too); an event nobody mapped yet says nothing
        case
            when is_unmapped_event then false
            when event_name = 'Email Opened' then not is_machine_open
            when event_name = 'Email Clicked' then true
            when event_source = 'email_events' then false
            when event_name in ('Email Processed', 'Email Delivered', 'Email Deferred') then false
            when event_name in ('Email Bounced', 'Email Dropped') then false
            when event_name in ('Email Marked as Spam', 'Email Unsubscribed', 'Email Resubscribed') then false
            else true
        end as is_meaningful_activity,
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
        -- what the ESP said about a bounce, an unsubscribe or a drop (stg_esp__email_events)
        bounce_type,
        unsubscribe_group_id,
        drop_reason,
        session_id,
        engaged_seconds,
        last_active_at,

        -- timestamps
        occurred_at,
        received_at
    from resolved
    -- an event that resolves to no one belongs to a person who asked to be forgotten
    -- (identity_map leaves out every identifier of theirs): it is left out with them
    where contact_key is not null
)

select * from final
