{#- One row per contact and ESP unsubscribe group (a list, a topic, a SendGrid suppression
    group) the person left and did not rejoin by as_of: a group unsubscribe closes that
    group only, not the email channel (contacts.email_suppression_reason is for the
    channel). For the syncs to honour per group. -#}
with

group_events as (
    select * from {{ ref('int_email_suppression_events') }}
    where
        event_name in ('Email Unsubscribed', 'Email Resubscribed')
        and unsubscribe_group_id is not null
),

latest as (
    -- each contact's newest event per group; at the same instant the unsubscribe wins
    select
        *,
        row_number() over (
            partition by contact_key, unsubscribe_group_id
            order by
                occurred_at desc,
                case when event_name = 'Email Unsubscribed' then 0 else 1 end asc,
                event_id asc
        ) as recency_rank
    from group_events
),

unsubscribes as (
    select
        contact_key,
        unsubscribe_group_id,
        count(*) as unsubscribes,
        min(occurred_at) as first_unsubscribed_at
    from group_events
    where event_name = 'Email Unsubscribed'
    group by contact_key, unsubscribe_group_id
),

final as (
    select
        -- grain
        cast(latest.contact_key as {{ dbt.type_string() }}) as contact_key,
        cast(latest.unsubscribe_group_id as {{ dbt.type_string() }}) as unsubscribe_group_id,

        -- the address that left the group, and when
        cast(latest.email as {{ dbt.type_string() }}) as email,
        latest.occurred_at as unsubscribed_at,
        unsubscribes.first_unsubscribed_at,
        unsubscribes.unsubscribes,

        -- as of, and the build that wrote the row
        {{ as_of() }} as as_of,
        {{ build_id() }} as build_id
    from latest
    inner join unsubscribes
        on
            latest.contact_key = unsubscribes.contact_key
            and latest.unsubscribe_group_id = unsubscribes.unsubscribe_group_id
    where latest.recency_rank = 1 and latest.event_name = 'Email Unsubscribed'
)

select * from final
