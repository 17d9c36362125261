with

contacts as (
    select * from {{ ref('base_crm__contacts') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        crm_contact_id,
        company_id,
        owner_id,
        email,
        -- an address was given but is not well formed: the contact stays, without it
        {{ is_rejected_email('raw_email') }} as has_rejected_email,
        merged_into_contact_id,

        -- person
        first_name,
        last_name,
        job_title,
        persona,
        lifecycle_stage,
        company_name,

        -- consent
        coalesce(email_opt_out, false) as email_opt_out,

        -- timestamps: a record without its update time was last known as created
        created_at,
        coalesce(updated_at, created_at) as updated_at,
        firmographics_verified_at
    from contacts
)

select * from final
