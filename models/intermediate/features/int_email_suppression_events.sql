{#- One row per email event known by as_of that bears on whether a contact may be emailed:
    bounces with their type, drops with why, spam complaints, unsubscribes (global, or from
    one group) and group resubscribes, with the contact. From the ESP, or relayed by a
    tracking source (Segment's email spec), which gives no bounce type: unknown. A small
    slice of the events, read once for int_contact_email_suppression and
    email_group_unsubscribes. -#}
with

events as (
    select * from {{ ref('int_events_unified') }}
    where
        event_name in ('Email Bounced', 'Email Dropped', 'Email Marked as Spam')
        or event_name in ('Email Unsubscribed', 'Email Resubscribed')
),

final as (
    select
        -- ids
        event_id,
        contact_key,
        email,
        event_source,
        message_id,

        -- event
        event_name,
        case when event_name = 'Email Bounced' then coalesce(bounce_type, 'unknown') end as bounce_type,
        case when event_name = 'Email Dropped' then coalesce(drop_reason, 'other') end as drop_reason,
        case
            when event_name in ('Email Unsubscribed', 'Email Resubscribed') then unsubscribe_group_id
        end as unsubscribe_group_id,

        -- timestamps
        occurred_at
    from events
)

select * from final
