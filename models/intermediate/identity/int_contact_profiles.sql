{#- One row per contact: who the person is across their identifiers (primary email, CRM
    record, user id, company) and how many identifiers were merged into them. -#}
with

identity_map as (
    select * from {{ ref('identity_map') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ known_by_as_of('created_at') }}
),

companies_by_domain as (
    -- a work email's domain names its company when no CRM record does
    select
        domain,
        min(company_id) as company_id
    from {{ ref('stg_crm__companies') }}
    where domain is not null
    group by domain
),

identifiers as (
    select
        contact_key,
        count(*) as identifier_count,
        sum(case when identifier_type = 'email' then 1 else 0 end) as email_count,
        sum(case when identifier_type = 'crm_contact_id' then 1 else 0 end) as crm_contact_count,
        sum(case when identifier_type = 'anonymous_id' then 1 else 0 end) as anonymous_id_count,
        max(case when identifier_type <> 'anonymous_id' then 1 else 0 end) = 1 as is_identified,
        min(first_seen_at) as first_seen_at
    from identity_map
    group by contact_key
),

crm_ranked as (
    -- the most recently updated CRM record speaks for a contact with several; a record
    -- merged into another only when its survivor is not there
    select
        identity_map.contact_key,
        crm_contacts.crm_contact_id,
        crm_contacts.email,
        crm_contacts.company_id,
        crm_contacts.owner_id,
        crm_contacts.job_title,
        crm_contacts.persona,
        crm_contacts.lifecycle_stage,
        crm_contacts.firmographics_verified_at,
        row_number() over (
            partition by identity_map.contact_key
            order by
                case when crm_contacts.merged_into_contact_id is null then 0 else 1 end,
                crm_contacts.updated_at desc,
                crm_contacts.crm_contact_id asc
        ) as crm_rank
    from crm_contacts
    inner join identity_map
        on identity_map.identifier_type = 'crm_contact_id'
            and crm_contacts.crm_contact_id = identity_map.identifier
),

emails_ranked as (
    -- shared mailboxes and variants seen last lose to the address in use now
    select
        contact_key,
        identifier as email,
        row_number() over (
            partition by contact_key
            order by last_seen_at desc, identifier asc
        ) as email_rank
    from identity_map
    where identifier_type = 'email'
),

users_ranked as (
    select
        contact_key,
        identifier as user_id,
        row_number() over (partition by contact_key order by last_seen_at desc, identifier asc) as user_rank
    from identity_map
    where identifier_type = 'user_id'
),

joined as (
    select
        identifiers.contact_key,
        crm_ranked.crm_contact_id,
        users_ranked.user_id,
        identifiers.is_identified,
        identifiers.identifier_count,
        identifiers.email_count,
        identifiers.crm_contact_count,
        identifiers.anonymous_id_count,
        coalesce(crm_ranked.email, emails_ranked.email) as primary_email,
        coalesce(crm_ranked.company_id, companies_by_domain.company_id) as company_id,
        crm_ranked.owner_id,
        crm_ranked.job_title,
        crm_ranked.persona,
        crm_ranked.lifecycle_stage as crm_lifecycle_stage,
        crm_ranked.firmographics_verified_at,
        identifiers.first_seen_at
    from identifiers
    left join crm_ranked
        on identifiers.contact_key = crm_ranked.contact_key and crm_ranked.crm_rank = 1
    left join emails_ranked
        on identifiers.contact_key = emails_ranked.contact_key and emails_ranked.email_rank = 1
    left join users_ranked
        on identifiers.contact_key = users_ranked.contact_key and users_ranked.user_rank = 1
    left join companies_by_domain
        on {{ dbt.split_part('coalesce(crm_ranked.email, emails_ranked.email)', "'@'", 2) }}
            = companies_by_domain.domain
),

final as (
    select
        -- ids
        contact_key,
        primary_email,
        crm_contact_id,
        user_id,
        company_id,
        owner_id,

        -- CRM fields
        job_title,
        persona,
        crm_lifecycle_stage,

        -- identity
        is_identified,
        identifier_count,
        email_count,
        crm_contact_count,
        anonymous_id_count,

        -- timestamps
        first_seen_at,
        firmographics_verified_at
    from joined
)

select * from final
