{#- Every piece of evidence that two identifiers belong to one person, by rule, seen by
    as_of; plus the manual merges of the overrides seed. Links are kept whether or not
    resolution uses them: the merge audit reports each one's fate. -#}
with

pages as (
    select * from {{ ref('stg_segment__pages') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

identifies as (
    select * from {{ ref('stg_segment__identifies') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ known_by_as_of('created_at') }}
),

observed as (
    select * from {{ ref('int_identifiers_observed') }}
),

overrides as (
    select * from {{ ref('identity_overrides') }}
    where override_action = 'merge'
),

evidence as (
    -- an identify call ties its anonymous id, user id and email together
    select 'identify_call' as link_rule, 'anonymous_id' as type_a, anonymous_id as identifier_a,
        'user_id' as type_b, user_id as identifier_b, occurred_at as seen_at
    from identifies where anonymous_id is not null and user_id is not null
    union all
    select 'identify_call', 'user_id', user_id, 'email', email, occurred_at
    from identifies where user_id is not null and email is not null
    union all
    select 'identify_call', 'anonymous_id', anonymous_id, 'email', email, occurred_at
    from identifies where anonymous_id is not null and user_id is null and email is not null
    union all
    -- a logged-in event carries both the device's anonymous id and the user id
    {% for relation in ['pages', 'tracks'] %}
    select 'event_stitch', 'anonymous_id', anonymous_id, 'user_id', user_id, occurred_at
    from {{ relation }} where anonymous_id is not null and user_id is not null
    union all
    {% endfor %}
    -- a CRM record ties its contact id to its email
    select 'crm_record', 'crm_contact_id', crm_contact_id, 'email', email, created_at
    from crm_contacts where email is not null
    union all
    -- variants of one mailbox (case, plus tags, gmail dots) share a canonical email
    select 'email_normalization', 'email', variant.identifier, 'email', first_variant.identifier,
        variant.first_seen_at
    from observed as variant
    inner join (
        select node, min(identifier) as identifier
        from observed
        where identifier_type = 'email'
        group by node
    ) as first_variant
        on variant.node = first_variant.node and variant.identifier <> first_variant.identifier
    where variant.identifier_type = 'email'
    union all
    select 'manual_merge', identifier_type, identifier, other_identifier_type, other_identifier,
        {{ as_of() }}
    from overrides
),

final as (
    select
        -- ids
        link_rule,
        type_a as identifier_type_a,
        identifier_a,
        type_b as identifier_type_b,
        identifier_b,

        -- measures
        count(*) as evidence_count,

        -- timestamps
        min(seen_at) as first_seen_at
    from evidence
    group by link_rule, type_a, identifier_a, type_b, identifier_b
)

select * from final
