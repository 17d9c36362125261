{#- Non-customers close to the won customers of their own kind: each contact is a point of
    (fit, engagement, intent, decision-stage views) scaled to 0-1; the centroid of the B2B
    customers (contacts of an account) is the ideal of B2B contacts, the centroid of the B2C
    shoppers (customers by their orders, no account) that of identified B2C contacts; a contact
    qualifies when its distance to its kind's centroid is small (similarity >= var
    segments__lookalike_min_similarity). B2B candidates need some fit. -#}
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

similarity as (
    select
        points.contact_key,
        1 - sqrt(
            power(points.fit - centroids.fit, 2) + power(points.engagement - centroids.engagement, 2)
            + power(points.intent - centroids.intent, 2) + power(points.decision_views - centroids.decision_views, 2)
        ) / 2 as similarity
    from points
    inner join centroids on points.customer_kind = centroids.customer_kind
    where
        not points.is_customer
        and (
            (points.customer_kind = 'b2b' and points.fit > 0)
            or (points.customer_kind = 'b2c' and points.lifecycle_stage <> 'visitor')
        )
)

select
    contact_key,
    {{ segment_reason(
        "'similar to won customers (similarity '",
        'cast(round(similarity * 100) as integer)',
        "' %)'",
    ) }} as reason,
    {{ as_of() }} as qualified_at
from similarity
where similarity >= {{ var('segments__lookalike_min_similarity') }}
