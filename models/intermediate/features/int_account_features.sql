{#- One row per CRM company with the account-level facts segments and scores use: customer
    status from contracts and deals as of as_of, renewal, product usage trend, people active
    on the site, and third-party intent. -#}
with

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

subscriptions as (
    select * from {{ ref('stg_product__subscriptions') }}
    where {{ known_by_as_of('started_at') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
),

usage as (
    select * from {{ ref('stg_product__usage') }}
    where usage_date <= cast({{ as_of() }} as date)
),

intent as (
    select * from {{ ref('stg_intent__signals') }}
    where {{ known_by_as_of('observed_at') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

features as (
    select * from {{ ref('int_contact_features') }}
),

contract_status as (
    select
        company_id,
        max(case when status = 'active' then 1 else 0 end) = 1 as has_active_subscription,
        max(case when status = 'churned' then 1 else 0 end) = 1 as has_churned_subscription,
        min(case when status = 'active' and renews_at > {{ as_of() }} then renews_at end) as renews_at
    from subscriptions
    group by company_id
),

deal_status as (
    select
        company_id,
        max(case when is_won and closed_at <= {{ as_of() }} then 1 else 0 end) = 1 as has_won_deal,
        max(case when closed_at is null or closed_at > {{ as_of() }} then 1 else 0 end) = 1 as has_open_deal,
        count(*) as deals
    from deals
    group by company_id
),

usage_trend as (
    select
        company_id,
        sum(case when {{ is_within_days('usage_date', 30) }} then key_actions else 0 end) as key_actions_30d,
        sum(
            case when not {{ is_within_days('usage_date', 30) }} and {{ is_within_days('usage_date', 60) }}
                    then key_actions
                else 0
            end
        ) as key_actions_prior_30d,
        sum(case when {{ is_within_days('usage_date', 30) }} then active_users else 0 end) as active_user_days_30d
    from usage
    group by company_id
),

people as (
    select
        profiles.company_id,
        sum(case when features.page_views_30d > 0 then 1 else 0 end) as people_visiting_30d
    from profiles
    inner join features on profiles.contact_key = features.contact_key
    where profiles.company_id is not null
    group by profiles.company_id
),

third_party_intent as (
    select
        company_domain,
        max(intent_score) as third_party_intent_score,
        count(distinct topic) as third_party_intent_topics
    from intent
    where {{ is_within_days('observed_at', var('intent__third_party_window_days')) }}
    group by company_domain
),

final as (
    select
        -- ids
        companies.company_id,
        companies.domain,

        -- firmographics
        companies.industry,
        companies.employee_count,
        companies.is_target_account,

        -- customer status
        -- a contract decides; a won deal counts until its contract reaches the feed
        coalesce(
            contract_status.has_active_subscription,
            coalesce(deal_status.has_won_deal, false)
        ) as is_customer,
        coalesce(contract_status.has_churned_subscription, false)
        and not coalesce(contract_status.has_active_subscription, false) as is_former_customer,
        coalesce(deal_status.has_open_deal, false) as has_open_deal,
        coalesce(deal_status.deals, 0) as deals,
        contract_status.renews_at,

        -- usage
        coalesce(usage_trend.key_actions_30d, 0) as key_actions_30d,
        coalesce(usage_trend.key_actions_prior_30d, 0) as key_actions_prior_30d,
        coalesce(usage_trend.active_user_days_30d, 0) as active_user_days_30d,

        -- engagement
        coalesce(people.people_visiting_30d, 0) as people_visiting_30d,
        coalesce(third_party_intent.third_party_intent_score, 0) as third_party_intent_score,
        coalesce(third_party_intent.third_party_intent_topics, 0) as third_party_intent_topics
    from companies
    left join contract_status on companies.company_id = contract_status.company_id
    left join deal_status on companies.company_id = deal_status.company_id
    left join usage_trend on companies.company_id = usage_trend.company_id
    left join people on companies.company_id = people.company_id
    left join third_party_intent on companies.domain = third_party_intent.company_domain
)

select * from final
