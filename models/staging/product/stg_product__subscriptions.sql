with

subscriptions as (
    select * from {{ ref('base_product__subscriptions') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        subscription_key as subscription_id,
        company_id,

        -- contract
        status,
        plan,

        -- timestamps
        started_at,
        renews_at
    from subscriptions
)

select * from final
