with

email_events as (
    select * from {{ ref('base_esp__email_events') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        email_event_id,
        email,
        -- the CRM contact the ESP names its person by (a Marketo lead): the person when the
        -- event carries no address, and linked to the address when it carries both
        crm_contact_id,
        campaign_id,
        message_id,

        -- event
        event_name,
        raw_event_name,
        is_unmapped_event,
        url,
        -- a privacy proxy (Apple Mail Privacy Protection) fetched the email: not a person
        is_machine_open,

        -- bounces: hard, soft or block as the ESP says (SendGrid's `bounce` type is a hard
        -- bounce, `blocked` a block, SES's Permanent / Transient hard / soft); a type it does
        -- not say, or one not recognised, is unknown (suppression treats it as soft)
        case
            when event_name = 'Email Bounced' then coalesce({{ normalize_bounce_type('raw_bounce_type') }}, 'unknown')
            else {{ normalize_bounce_type('raw_bounce_type') }}
        end as bounce_type,
        raw_bounce_type,
        -- set for an unsubscribe from one group (list, topic) only; null for a global one
        unsubscribe_group_id,
        -- drops: whether the ESP dropped the send because it holds the address as
        -- unsubscribed, bounced or spam-reporting (SendGrid's 'Unsubscribed Address',
        -- 'Bounced Address', 'Spam Reporting Address'; Mailgun's suppress-unsubscribe,
        -- suppress-bounce, suppress-complaint), or for another reason
        case
            when event_name = 'Email Dropped' then {{ normalize_drop_reason('reason') }}
        end as drop_reason,
        reason,

        -- timestamps
        occurred_at,
        -- the ESP webhook carries no arrival time: the event counts from when it happened (the
        -- load time says when a file was copied, never what a past as_of could know: arrived_at)
        occurred_at as received_at
    from email_events
)

select * from final
