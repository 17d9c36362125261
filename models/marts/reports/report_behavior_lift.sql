{#- One row per behaviour (scoring signal): the share of buyers who did it before buying
    against the share of identified non-buyers who did it, and the lift (ratio). Buyers are
    customers; for a won deal only what happened before it closed counts. -#}
with

daily as (
    select * from {{ ref('int_contact_activity_daily') }}
),

scores as (
    select * from {{ ref('int_contact_scores') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

won_at as (
    select
        company_id,
        min(closed_at) as first_won_at
    from {{ ref('stg_crm__deals') }}
    where is_won and closed_at <= {{ as_of() }}
    group by company_id
),

population as (
    select
        scores.contact_key,
        scores.is_customer as is_buyer,
        won_at.first_won_at
    from scores
    inner join profiles on scores.contact_key = profiles.contact_key
    left join won_at on profiles.company_id = won_at.company_id
    where profiles.is_identified
),

did as (
    select distinct
        daily.contact_key,
        daily.signal_type,
        daily.signal
    from daily
    inner join population on daily.contact_key = population.contact_key
    where population.first_won_at is null or daily.first_at < population.first_won_at
),

group_sizes as (
    select
        sum(case when is_buyer then 1 else 0 end) as buyers,
        sum(case when is_buyer then 0 else 1 end) as non_buyers
    from population
),

shares as (
    select
        did.signal_type,
        did.signal,
        sum(case when population.is_buyer then 1 else 0 end) as buyers_who_did,
        sum(case when population.is_buyer then 0 else 1 end) as non_buyers_who_did
    from did
    inner join population on did.contact_key = population.contact_key
    group by did.signal_type, did.signal
),

final as (
    select
        shares.signal_type,
        shares.signal,
        shares.buyers_who_did,
        shares.non_buyers_who_did,
        {{ round_to('shares.buyers_who_did * 1.0 / nullif(group_sizes.buyers, 0)', 4) }} as buyer_share,
        {{ round_to('shares.non_buyers_who_did * 1.0 / nullif(group_sizes.non_buyers, 0)', 4) }} as non_buyer_share,
        {{ round_to(
            '(shares.buyers_who_did * 1.0 / nullif(group_sizes.buyers, 0))'
            ~ ' / nullif(shares.non_buyers_who_did * 1.0 / nullif(group_sizes.non_buyers, 0), 0)',
            2,
        ) }} as lift
    from shares
    cross join group_sizes
)

select * from final
