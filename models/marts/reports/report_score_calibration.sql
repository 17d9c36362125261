{#- Does the engagement score predict conversion? Calibrated on a held-out period: the 30
    days before as_of. Each contact is scored as of the start of the period (int_contact_scores'
    engagement_score_30d_ago: the same decayed points, summed over the activity up to that
    day) and the outcome is whether they converted in the period: a form, demo or trial
    (var features__conversion_events), or a deal opened on their account.

    The population is the contacts that could have converted in the period, as they were at
    its start, so that nothing learnt since decides who is in it: identified by as_of, first
    seen by the start, not converted before it, and not a customer before it (no order, no
    subscription started and no won deal closed on their account before the start; a
    former customer counts as one). Contacts first seen during the period had no score at its
    start and are left out; one who became a customer during the period stays in. -#}
{%- set period_start = dbt.dateadd('day', -30, as_of()) %}
with

scores as (
    select * from {{ ref('int_contact_scores') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

activity as (
    select * from {{ ref('int_contact_activity_daily') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
),

subscriptions as (
    select * from {{ ref('stg_product__subscriptions') }}
    where {{ known_by_as_of('started_at') }}
),

contact_firsts as (
    select
        contact_key,
        min(case when signal in ({{ "'" ~ var('features__conversion_events') | join("', '") ~ "'" }}) then first_at end)
            as first_converted_at,
        min(case when signal = 'Order Completed' then first_at end) as first_order_at
    from activity
    where signal_type = 'event'
    group by contact_key
),

account_firsts as (
    select
        company_id,
        min(created_at) as first_deal_at,
        min(case when is_won then closed_at end) as first_won_at
    from deals
    group by company_id
),

account_subscriptions as (
    select
        company_id,
        min(started_at) as first_subscription_at
    from subscriptions
    group by company_id
),

population as (
    select
        scores.contact_key,
        scores.engagement_score_30d_ago,
        case
            when contact_firsts.first_converted_at is null then account_firsts.first_deal_at
            when account_firsts.first_deal_at is null then contact_firsts.first_converted_at
            when contact_firsts.first_converted_at < account_firsts.first_deal_at then contact_firsts.first_converted_at
            else account_firsts.first_deal_at
        end as first_converted_at,
        coalesce(contact_firsts.first_order_at <= {{ period_start }}, false)
        or coalesce(account_subscriptions.first_subscription_at <= {{ period_start }}, false)
        or coalesce(account_firsts.first_won_at <= {{ period_start }}, false) as was_customer_at_start
    from scores
    inner join profiles on scores.contact_key = profiles.contact_key
    left join contact_firsts on scores.contact_key = contact_firsts.contact_key
    left join account_firsts on profiles.company_id = account_firsts.company_id
    left join account_subscriptions on profiles.company_id = account_subscriptions.company_id
    where profiles.is_identified and profiles.first_seen_at <= {{ period_start }}
),

eligible as (
    select
        contact_key,
        engagement_score_30d_ago,
        first_converted_at is not null as converted,
        ntile(10) over (order by engagement_score_30d_ago, contact_key) as score_decile
    from population
    where
        not was_customer_at_start
        and (first_converted_at is null or first_converted_at > {{ period_start }})
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
