{#- Non-customers who look like the won customers of their own kind. Each contact is a point of
    (fit, engagement, intent, decision-stage views) scaled to 0-1. Until `audience train` learned
    a lookalike model for a kind, the centroid of its customers is the ideal (B2B: contacts of an
    account; B2C: shoppers with orders and no account) and a contact qualifies when close to it
    (similarity >= var segments__lookalike_min_similarity). Once a model is learned for the kind
    (stg_scoring__lookalike_weights: the odds of becoming such a customer, fitted on the
    warehouse's own history), the same number of contacts qualify, the most likely first, so a
    trained model changes who is in the segment and not how many. B2B candidates need some fit,
    B2C candidates an identity. -#}
with

points as (
    select
        scores.contact_key,
        scores.is_customer,
        scores.lifecycle_stage,
        case when profiles.company_id is not null then 'b2b' else 'b2c' end as customer_kind,
        scores.fit_score / 100.0 as fit,
        scores.engagement_score / 100.0 as engagement,
        scores.intent_score / 100.0 as intent,
        least(features.decision_page_views_14d, 10) / 10.0 as decision_views
    from {{ ref('int_contact_scores') }} as scores
    inner join {{ ref('int_contact_features') }} as features on scores.contact_key = features.contact_key
    inner join {{ ref('int_contact_profiles') }} as profiles on scores.contact_key = profiles.contact_key
),

centroids as (
    select
        customer_kind,
        avg(fit) as fit,
        avg(engagement) as engagement,
        avg(intent) as intent,
        avg(decision_views) as decision_views
    from points
    where is_customer
    group by customer_kind
),

learned as (
    select
        customer_kind,
        max(model_id) as model_id,
        coalesce(sum(case when feature_type = 'intercept' then weight end), 0) as intercept,
        coalesce(sum(case when feature_type = 'fit' then weight end), 0) as fit_weight,
        coalesce(sum(case when feature_type = 'engagement' then weight end), 0) as engagement_weight,
        coalesce(sum(case when feature_type = 'intent' then weight end), 0) as intent_weight,
        coalesce(sum(case when feature_type = 'decision_views' then weight end), 0) as decision_views_weight
    from {{ ref('stg_scoring__lookalike_weights') }}
    group by customer_kind
),

candidates as (
    select
        points.contact_key,
        points.customer_kind,
        1 - sqrt(
            power(points.fit - centroids.fit, 2) + power(points.engagement - centroids.engagement, 2)
            + power(points.intent - centroids.intent, 2) + power(points.decision_views - centroids.decision_views, 2)
        ) / 2 as similarity,
        -- the learned model's log-odds, clamped to +-30 (null without a model for the kind)
        case
            when learned.customer_kind is not null
                then greatest(
                        least(
                            learned.intercept + learned.fit_weight * points.fit
                            + learned.engagement_weight * points.engagement
                            + learned.intent_weight * points.intent
                            + learned.decision_views_weight * points.decision_views,
                            30
                        ),
                        -30
                    )
        end as learned_logit
    from points
    inner join centroids on points.customer_kind = centroids.customer_kind
    left join learned on points.customer_kind = learned.customer_kind
    where
        not points.is_customer
        and (
            (points.customer_kind = 'b2b' and points.fit > 0)
            or (points.customer_kind = 'b2c' and points.lifecycle_stage <> 'visitor')
        )
),

quotas as (
    -- a learned model admits as many contacts of its kind as the centroid does
    select
        customer_kind,
        sum(case when similarity >= {{ var('segments__lookalike_min_similarity') }} then 1 else 0 end) as admitted
    from candidates
    group by customer_kind
),

ranked as (
    select
        candidates.contact_key,
        candidates.similarity,
        1.0 / (1 + exp(-1.0 * candidates.learned_logit)) as learned_probability,
        quotas.admitted,
        row_number() over (
            partition by candidates.customer_kind
            order by candidates.learned_logit desc, candidates.contact_key asc
        ) as learned_rank
    from candidates
    inner join quotas on candidates.customer_kind = quotas.customer_kind
)

select
    contact_key,
    case
        when learned_probability is null
            then {{ segment_reason(
                "'similar to won customers (similarity '",
                'cast(round(similarity * 100) as integer)',
                "' %)'",
            ) }}
        else {{ segment_reason(
            "'like the contacts who converted (learned probability '",
            'cast(round(learned_probability * 100) as integer)',
            "' %)'",
        ) }}
    end as reason,
    {{ as_of() }} as qualified_at
from ranked
where
    (learned_probability is null and similarity >= {{ var('segments__lookalike_min_similarity') }})
    or (learned_probability is not null and learned_rank <= admitted)
