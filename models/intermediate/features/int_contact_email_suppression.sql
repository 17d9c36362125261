{#- One row per contact the email channel is closed to, with the reason (the first that
    applies, in this order) and the newest event behind it:

    - spam_complaint: the person reported an email as spam;
    - unsubscribed: a global unsubscribe not followed by a global resubscribe (an
      unsubscribe from one group closes only that group: email_group_unsubscribes);
    - hard_bounce: the ESP said the address bounced hard;
    - dropped_spam_reporting_address, dropped_unsubscribed_address, dropped_bounced_address:
      the ESP dropped a send because it holds the address as such (a global resubscribe
      after the drop of an unsubscribed address reopens the channel: the ESP let go of it);
    - repeated_soft_bounces: var email__soft_bounce_limit (3) soft bounces in a row, no
      delivery, open or click since the first of them (blocks and bounces of an unknown type
      count as soft; any delivery, open or click ends the streak).

    Other drops (spam content, a bad header, a quota) say nothing about the address. The
    evidence of every reason that applies is kept in its own column (<reason>_at), so
    contact_suppressions lists each reason, not only the first. -#}
with

events as (
    select * from {{ ref('int_email_suppression_events') }}
),

reached as (
    -- the last time an email reached the person: a delivery, an open (a privacy proxy's too:
    -- the mailbox took the email) or a click
    select
        contact_key,
        max(last_at) as last_reached_at
    from {{ ref('int_contact_activity_daily') }}
    where
        signal_type = 'event'
        and signal in ('Email Delivered', 'Email Opened', 'Email Opened (machine)', 'Email Clicked')
    group by contact_key
),

evidence as (
    select
        events.contact_key,
        max(reached.last_reached_at) as last_reached_at,
        max(case when events.event_name = 'Email Marked as Spam' then events.occurred_at end)
            as spam_complaint_at,
        max(
            case
                when events.event_name = 'Email Unsubscribed' and events.unsubscribe_group_id is null
                    then events.occurred_at
            end
        ) as last_unsubscribed_at,
        max(
            case
                when events.event_name = 'Email Resubscribed' and events.unsubscribe_group_id is null
                    then events.occurred_at
            end
        ) as last_resubscribed_at,
        max(case when events.bounce_type = 'hard' then events.occurred_at end) as hard_bounce_at,
        max(case when events.drop_reason = 'spam_reporting_address' then events.occurred_at end)
            as dropped_spam_reporting_address_at,
        max(case when events.drop_reason = 'unsubscribed_address' then events.occurred_at end)
            as last_dropped_unsubscribed_address_at,
        max(case when events.drop_reason = 'bounced_address' then events.occurred_at end)
            as dropped_bounced_address_at,
        -- soft bounces since the email last reached the person: the current streak
        sum(
            case
                when events.bounce_type in ('soft', 'block', 'unknown')
                    and (reached.last_reached_at is null or events.occurred_at > reached.last_reached_at)
                    then 1
                else 0
            end
        ) as soft_bounces_in_a_row,
        max(case when events.bounce_type in ('soft', 'block', 'unknown') then events.occurred_at end)
            as last_soft_bounce_at
    from events
    left join reached on events.contact_key = reached.contact_key
    group by events.contact_key
),

lifted as (
    -- a global resubscribe lifts an earlier global unsubscribe (and the ESP's drops of the
    -- address as unsubscribed before it); at the same instant the unsubscribe wins, as for
    -- groups (email_group_unsubscribes)
    select
        *,
        case
            when last_resubscribed_at is null or last_unsubscribed_at >= last_resubscribed_at
                then last_unsubscribed_at
        end as unsubscribed_at,
        case
            when last_resubscribed_at is null or last_dropped_unsubscribed_address_at >= last_resubscribed_at
                then last_dropped_unsubscribed_address_at
        end as dropped_unsubscribed_address_at,
        case
            when soft_bounces_in_a_row >= {{ var('email__soft_bounce_limit') }} then last_soft_bounce_at
        end as repeated_soft_bounces_at
    from evidence
),

reasons as (
    select
        *,
        case
            when spam_complaint_at is not null then 'spam_complaint'
            when unsubscribed_at is not null then 'unsubscribed'
            when hard_bounce_at is not null then 'hard_bounce'
            when dropped_spam_reporting_address_at is not null then 'dropped_spam_reporting_address'
            when dropped_unsubscribed_address_at is not null then 'dropped_unsubscribed_address'
            when dropped_bounced_address_at is not null then 'dropped_bounced_address'
            when repeated_soft_bounces_at is not null then 'repeated_soft_bounces'
        end as email_suppression_reason
    from lifted
),

final as (
    select
        -- ids
        contact_key,

        -- suppression
        email_suppression_reason,
        case email_suppression_reason
            when 'spam_complaint' then spam_complaint_at
            when 'unsubscribed' then unsubscribed_at
            when 'hard_bounce' then hard_bounce_at
            when 'dropped_spam_reporting_address' then dropped_spam_reporting_address_at
            when 'dropped_unsubscribed_address' then dropped_unsubscribed_address_at
            when 'dropped_bounced_address' then dropped_bounced_address_at
            when 'repeated_soft_bounces' then repeated_soft_bounces_at
        end as email_suppression_evidence_at,
        soft_bounces_in_a_row,

        -- the evidence of every reason that applies (null when it does not)
        spam_complaint_at,
        unsubscribed_at,
        hard_bounce_at,
        dropped_spam_reporting_address_at,
        dropped_unsubscribed_address_at,
        dropped_bounced_address_at,
        repeated_soft_bounces_at,

        -- timestamps
        last_reached_at
    from reasons
    where email_suppression_reason is not null
)

select * from final
