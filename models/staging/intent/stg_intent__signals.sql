with

signals as (
    select * from {{ ref('base_intent__signals') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        signal_key as intent_signal_id,
        company_domain,
        topic,

        -- measures
        intent_score,

        -- timestamps
        observed_at
    from signals
)

select * from final
