with

usage as (
    select * from {{ ref('base_product__usage') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        company_id,

        -- measures
        active_users,
        key_actions,

        -- dates
        usage_date
    from usage
)

select * from final
