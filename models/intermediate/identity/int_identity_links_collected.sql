{#- Every piece of evidence that two identifiers belong to one person, by rule, seen by
    as_of; plus the manual merges of the overrides seed. Links are kept whether or not
    resolution uses them: the merge audit reports each one's fate. -#}
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

observed as (
    select * from {{ ref('int_identifiers_observed') }}
),

overrides as (
    select * from {{ ref('identity_overrides') }}
    where override_action = 'merge'
),

first_email_variants as (
    select
        node,
        min(identifier) as first_variant_email
    from observed
    where identifier_type = 'email'
    group by node
),

email_variants as (
    -- variants of one mailbox (case, plus tags, gmail dots) share a canonical email
    select
        variant.identifier as variant_email,
        first_email_variants.first_variant_email,
        variant.first_seen_at
    from observed as variant
    inner join first_email_variants
        on
            variant.node = first_email_variants.node
            and variant.identifier != first_email_variants.first_variant_email
    where variant.identifier_type = 'email'
),

evidence as (
    -- an identify call ties its anonymous id, user id and email together
    {{ link_evidence(
        'identify_call',
        'identifies',
        "'anonymous_id'",
        'anonymous_id',
        "'user_id'",
        'user_id',
        'occurred_at',
    ) }}
    union all
    {{ link_evidence(
        'identify_call',
        'identifies',
        "'user_id'",
        'user_id',
        "'email'",
        'email',
        'occurred_at',
    ) }}
    union all
    {{ link_evidence(
        'identify_call',
        'identifies',
        "'anonymous_id'",
        'anonymous_id',
        "'email'",
        'email',
        'occurred_at',
        'user_id is null',
    ) }}
    union all
    -- a logged-in event carries both the device's anonymous id and the user id
    {{ link_evidence(
        'event_stitch',
        'events',
        "'anonymous_id'",
        'anonymous_id',
        "'user_id'",
        'user_id',
        'occurred_at',
    ) }}
    union all
    -- an ESP event that names its person by CRM contact and by address ties the two (a
    -- Marketo activity of a lead the lead table does not hold yet, with its bounce address)
    {{ link_evidence(
        'esp_event',
        'events',
        "'crm_contact_id'",
        'crm_contact_id',
        "'email'",
        'email',
        'occurred_at',
    ) }}
    union all
    -- a CRM record ties its contact id to its email
    {{ link_evidence(
        'crm_record',
        'crm_contacts',
        "'crm_contact_id'",
        'crm_contact_id',
        "'email'",
        'email',
        'created_at',
    ) }}
    union all
    -- a CRM record merged into another (a merge, or a lead converted into a contact) is the
    -- same person as its survivor, since the record last changed
    {{ link_evidence(
        'crm_merge',
        'crm_contacts',
        "'crm_contact_id'",
        'crm_contact_id',
        "'crm_contact_id'",
        'merged_into_contact_id',
        'updated_at',
        known_by_as_of('updated_at'),
    ) }}
    union all
    {{ link_evidence(
        'email_normalization',
        'email_variants',
        "'email'",
        'variant_email',
        "'email'",
        'first_variant_email',
        'first_seen_at',
    ) }}
    union all
    {{ link_evidence(
        'manual_merge',
        'overrides',
        'identifier_type',
        'identifier',
        'other_identifier_type',
        'other_identifier',
        as_of(),
    ) }}
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
