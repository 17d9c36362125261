{#- One row per contact with every score and bucket: engagement (time-decayed, now and 30
    days ago, and its trend), recency bucket, fit, intent and lead scores, customer status,
    lifecycle stage and email suppression. Weights and bounds are seeds and vars; once
    `audience train` wrote a model (scoring.score_weights), the lead score is its probability
    of an opportunity or a purchase, in percent. -#}
with

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

features as (
    select * from {{ ref('int_contact_features') }}
),

signal_points as (
    select * from {{ ref('int_contact_signal_points') }}
),

accounts as (
    select * from {{ ref('int_account_features') }}
),

fit_weights as (
    select * from {{ ref('fit_weights') }}
),

learned as (
    -- the trained lead model's global terms; features = 0 when none was trained
    select
        count(*) as features,
        coalesce(sum(case when feature_type = 'intercept' then weight end), 0) as intercept,
        coalesce(sum(case when feature_type = 'fit_score' then weight end), 0) as fit_weight,
        coalesce(sum(case when feature_type = 'third_party_intent' then weight end), 0)
            as third_party_weight
    from {{ ref('stg_scoring__score_weights') }}
),

points as (
    select
        contact_key,
        sum(engagement_points) as engagement_points,
        sum(engagement_points_30d_ago) as engagement_points_30d_ago,
        sum(intent_points) as intent_points,
        sum(lead_points) as lead_points
    from signal_points
    group by contact_key
),

fit as (
    -- each attribute adds its points; of the size bands only the largest that applies
    select
        profiles.contact_key,
        coalesce(max(case when fit_weights.attribute = 'industry' then fit_weights.points end), 0)
        + coalesce(max(case when fit_weights.attribute = 'employees_at_least' then fit_weights.points end), 0)
        + coalesce(max(case when fit_weights.attribute = 'persona' then fit_weights.points end), 0)
        + coalesce(max(case when fit_weights.attribute = 'target_account' then fit_weights.points end), 0)
            as fit_points
    from profiles
    left join accounts on profiles.company_id = accounts.company_id
    inner join fit_weights
        on (fit_weights.attribute = 'industry' and accounts.industry = fit_weights.attribute_value)
            or (
                fit_weights.attribute = 'employees_at_least'
                and accounts.employee_count >= cast(fit_weights.attribute_value as {{ dbt.type_bigint() }})
            )
            or (fit_weights.attribute = 'persona' and profiles.persona = fit_weights.attribute_value)
            or (
                fit_weights.attribute = 'target_account' and accounts.is_target_account
                and fit_weights.attribute_value = 'true'
            )
    group by profiles.contact_key
),

scored as (
    select
        profiles.contact_key,
        {{ squash_score('coalesce(points.engagement_points, 0)', var('engagement__scale_points')) }}
            as engagement_score,
        {{ squash_score('coalesce(points.engagement_points_30d_ago, 0)', var('engagement__scale_points')) }}
            as engagement_score_30d_ago,
        least(coalesce(fit.fit_points, 0), 100) as fit_score,
        {{ squash_score(
            'coalesce(points.intent_points, 0) + coalesce(accounts.third_party_intent_score, 0) * '
            ~ var('intent__third_party_share'),
            var('intent__scale_points'),
        ) }} as intent_score,
        coalesce(accounts.third_party_intent_score, 0) as third_party_intent_score,
        coalesce(points.lead_points, 0) as lead_points,
        profiles.is_identified,
        coalesce(accounts.is_customer, false) or features.orders > 0 as is_customer,
        coalesce(accounts.is_former_customer, false) as is_former_customer,
        coalesce(accounts.has_open_deal, false) as has_open_deal,
        features.conversions > 0 or coalesce(accounts.deals, 0) > 0 as has_converted,
        features.email_suppression_reason,
        features.return_visit_pattern,
        features.last_activity_at
    from profiles
    inner join features on profiles.contact_key = features.contact_key
    left join points on profiles.contact_key = points.contact_key
    left join fit on profiles.contact_key = fit.contact_key
    left join accounts on profiles.company_id = accounts.company_id
),

with_lead as (
    select
        scored.*,
        case
            when learned.features > 0 then {{ round_to(
                '100.0 / (1 + exp(-1.0 * greatest(least(' ~ learned_lead_logit() ~ ', 30), -30)))', 1,
            ) }}
            else {{ round_to(
                var('lead__fit_share') ~ ' * scored.fit_score + (1 - ' ~ var('lead__fit_share') ~ ') * scored.intent_score',
                1,
            ) }}
        end as lead_score,
        {{ dbt.datediff("last_activity_at", as_of(), "hour") }}
            as hours_since_activity
    from scored
    cross join learned
),

final as (
    select
        -- ids
        contact_key,

        -- engagement
        engagement_score,
        engagement_score_30d_ago,
        case
            when engagement_score - engagement_score_30d_ago >= {{ var('engagement__trend_delta') }} then 'rising'
            when engagement_score_30d_ago - engagement_score >= {{ var('engagement__trend_delta') }} then 'declining'
            else 'steady'
        end as engagement_trend,
        case
            when last_activity_at is null then 'never'
            when hours_since_activity <= 24 * {{ var('recency__hot_days') }} then 'hot'
            when hours_since_activity <= 24 * {{ var('recency__active_days') }} then 'active'
            when hours_since_activity <= 24 * {{ var('recency__warm_days') }} then 'warm'
            when hours_since_activity <= 24 * {{ var('recency__cooling_days') }} then 'cooling'
            when hours_since_activity <= 24 * {{ var('recency__lapsed_days') }} then 'lapsed'
            else 'dormant'
        end as recency_bucket,
        return_visit_pattern,

        -- fit, intent, lead
        fit_score,
        intent_score,
        lead_score,
        lead_score >= {{ var('lead__mql_threshold') }} as is_mql,

        -- lifecycle
        is_customer,
        is_former_customer,
        has_converted,
        case
            when is_customer then 'customer'
            when is_former_customer then 'former_customer'
            when has_open_deal then 'opportunity'
            when lead_score >= {{ var('lead__mql_threshold') }} then 'marketing_qualified_lead'
            when has_converted then 'engaged_lead'
            when is_identified then 'prospect'
            else 'visitor'
        end as lifecycle_stage,

        -- email
        email_suppression_reason is not null as is_email_suppressed,
        email_suppression_reason,

        -- timestamps
        last_activity_at
    from with_lead
)

select * from final
