{#- Every identifier seen by as_of, in the form it was seen (emails trimmed and lower-cased),
    with the node it resolves through: the canonical email for emails, itself otherwise. -#}
with

events as (
    select * from {{ ref('int_events_unioned') }}
),

identifies as (
    select * from {{ ref('stg_segment__identifies') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ known_by_as_of('created_at') }}
),

blocked as (
    select * from {{ ref('blocked_identifiers') }}
),

sightings as (
    {% for relation in ['events', 'identifies'] %}
        {% for column in ['anonymous_id', 'user_id', 'email'] %}
            select
                '{{ column }}' as identifier_type,
                {{ column }} as identifier,
                occurred_at as seen_at
            from {{ relation }}
            where {{ column }} is not null
            union all
        {% endfor %}
    {% endfor %}
    -- an ESP event naming its person by CRM contact (a Marketo lead)
    select
        'crm_contact_id' as identifier_type,
        crm_contact_id as identifier,
        occurred_at as seen_at
    from events
    where crm_contact_id is not null
    union all
    select
        'email' as identifier_type,
        email as identifier,
        created_at as seen_at
    from crm_contacts
    where email is not null
    union all
    select
        'crm_contact_id' as identifier_type,
        crm_contact_id as identifier,
        created_at as seen_at
    from crm_contacts
),

observed as (
    select
        identifier_type,
        identifier,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as sightings
    from sightings
    group by identifier_type, identifier
),

with_node_value as (
    select
        observed.*,
        case
            when observed.identifier_type = 'email' then {{ canonical_email('identifier') }}
            else observed.identifier
        end as node_value
    from observed
),

blocked_matches as (
    select
        with_node_value.identifier_type,
        with_node_value.identifier,
        min(blocked.block_kind) as block_kind
    from with_node_value
    inner join blocked
        on
            blocked.identifier_type in ('any', with_node_value.identifier_type)
            and (
                (blocked.match_on = 'value' and with_node_value.identifier = blocked.blocked_value)
                or (
                    blocked.match_on = 'local_part'
                    and with_node_value.identifier_type = 'email'
                    and {{ dbt.split_part('with_node_value.node_value', "'@'", 1) }} = blocked.blocked_value
                )
            )
    group by with_node_value.identifier_type, with_node_value.identifier
),

with_block as (
    -- placeholders ('null', 'anonymous') and test addresses are not identifiers at all;
    -- shared mailboxes stay their own contact but never merge anyone
    select
        with_node_value.*,
        case
            when {{ is_placeholder_identifier('with_node_value.identifier') }} then 'invalid'
            else blocked_matches.block_kind
        end as block_kind
    from with_node_value
    left join blocked_matches
        on
            with_node_value.identifier_type = blocked_matches.identifier_type
            and with_node_value.identifier = blocked_matches.identifier
),

final as (
    select
        -- ids
        {{ dbt.concat(['identifier_type', "':'", 'node_value']) }} as node,
        identifier_type,
        identifier,
        node_value,

        -- guards
        block_kind,

        -- measures
        sightings,

        -- timestamps
        first_seen_at,
        last_seen_at
    from with_block
)

select * from final
