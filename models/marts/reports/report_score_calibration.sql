{#- Does the engagement score predict conversion? A backtest on the warehouse's own history:
    identified non-customers not yet converted 30 days before as_of, in deciles of their engagement score as
    of then, and the share that converted (form, demo, trial, or a deal on their account) in
    the 30 days since. A useful score converts more in higher deciles. -#}
with

scores as (
    select * from {{ ref('int_contact_scores') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

conversions as (
    select
        contact_key,
        min(first_at) as first_converted_at
    from {{ ref('int_contact_activity_daily') }}
    where signal_type = 'event' and signal in ({{ "'" ~ var('features__conversion_events') | join("', '") ~ "'" }})
    group by contact_key
),

first_deals as (
    select
        company_id,
        min(created_at) as first_deal_at
    from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
    group by company_id
),

population as (
    select
        scores.contact_key,
        scores.engagement_score_30d_ago,
        case
            when conversions.first_converted_at is null then first_deals.first_deal_at
            when first_deals.first_deal_at is null then conversions.first_converted_at
            when conversions.first_converted_at < first_deals.first_deal_at then conversions.first_converted_at
            else first_deals.first_deal_at
        end as first_converted_at
    from scores
    inner join profiles on scores.contact_key = profiles.contact_key
    left join conversions on scores.contact_key = conversions.contact_key
    left join first_deals on profiles.company_id = first_deals.company_id
    where profiles.is_identified and not scores.is_customer
),

eligible as (
    select
        contact_key,
        engagement_score_30d_ago,
        first_converted_at is not null as converted,
        ntile(10) over (order by engagement_score_30d_ago, contact_key) as score_decile
    from population
    where first_converted_at is null or first_converted_at > {{ dbt.dateadd('day', -30, as_of()) }}
),

final as (
    select
        score_decile,
        count(*) as contacts,
        min(engagement_score_30d_ago) as min_score,
        max(engagement_score_30d_ago) as max_score,
        sum(case when converted then 1 else 0 end) as converted,
        {{ round_to('sum(case when converted then 1 else 0 end) * 1.0 / count(*)', 4) }} as conversion_rate
    from eligible
    group by score_decile
)

select * from final
