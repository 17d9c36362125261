with

deals as (
    select * from {{ ref('base_crm__deals') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        deal_id,
        company_id,
        crm_contact_id,

        -- deal
        stage,
        amount,
        coalesce(is_won, stage = 'closedwon') as is_won,
        closed_at is not null as is_closed,

        -- timestamps
        created_at,
        closed_at
    from deals
)

select * from final
