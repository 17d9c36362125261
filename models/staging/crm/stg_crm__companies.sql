with

companies as (
    select * from {{ ref('base_crm__companies') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        company_id,

        -- firmographics
        company_name,
        domain,
        industry,
        employee_count,
        annual_revenue,
        country,
        is_target_account,

        -- timestamps
        updated_at
    from companies
)

select * from final
