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
        campaign_id,
        message_id,

        -- event
        event_name,
        raw_event_name,
        is_unmapped_event,
        url,
        -- a privacy proxy (Apple Mail Privacy Protection) fetched the email: not a person
        is_machine_open,

        -- timestamps
        occurred_at,
        -- the ESP webhook carries no arrival time: the event counts from when it happened (the
        -- load time says when a file was copied, never what a past as_of could know: arrived_at)
        occurred_at as received_at
    from email_events
)

select * from final
