{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={
        'column': 'delivered_at', 'mode': 'key', 'key': 'message_id', 'identity': 'contacts',
        'events_model': 'int_events_unified', 'events_column': 'occurred_at',
        'events_filter': "event_source = 'email_events'",
    },
    post_hook=["{{ remember_build_state(identity=true) }}"],
) }}
{#- One row per delivered email (a message to a contact), with whether the person opened it
    (privacy-proxy opens do not count) or clicked: the streaks, open rates and
    dormant-subscriber rules read it. Incremental: a build replaces the messages with an
    event in its window, and every message of the contacts the identity map changed. -#}
with

email_events as (
    select * from {{ ref('int_events_unified') }}
    where
        event_source = 'email_events'
        and {{ in_incremental_window() }}
),

messages as (
    select
        contact_key,
        message_id,
        min(campaign_id) as campaign_id,
        min(case when event_name = 'Email Delivered' then occurred_at end) as delivered_at,
        max(case when event_name = 'Email Opened' and not is_machine_open then 1 else 0 end) as is_opened,
        max(case when event_name = 'Email Opened' and is_machine_open then 1 else 0 end) as is_machine_opened,
        max(case when event_name = 'Email Clicked' then 1 else 0 end) as is_clicked
    from email_events
    where message_id is not null
    group by contact_key, message_id
),

final as (
    select
        -- ids
        contact_key,
        message_id,
        campaign_id,

        -- engagement
        is_opened = 1 or is_clicked = 1 as is_opened,
        is_machine_opened = 1 as is_machine_opened,
        is_clicked = 1 as is_clicked,

        -- timestamps
        delivered_at
    from messages
    where delivered_at is not null
)

select * from final
