{#- Non-customers close to the won customers: each contact is a point of (fit, engagement,
    intent, decision-stage views) scaled to 0-1, the won customers' centroid is the ideal, and
    a contact qualifies when its distance to it is small (similarity >= var
    segments__lookalike_min_similarity). -#}
with

points as (
    select
        scores.contact_key,
        scores.is_customer,
        scores.fit_score / 100.0 as fit,
        scores.engagement_score / 100.0 as engagement,
        scores.intent_score / 100.0 as intent,
        least(features.decision_page_views_14d, 10) / 10.0 as decision_views
    from {{ ref('int_contact_scores') }} as scores
    inner join {{ ref('int_contact_features') }} as features on scores.contact_key = features.contact_key
),

centroid as (
    select
        avg(fit) as fit,
        avg(engagement) as engagement,
        avg(intent) as intent,
        avg(decision_views) as decision_views
    from points
    where is_customer
),

similarity as (
    select
        points.contact_key,
        1 - sqrt(
            power(points.fit - centroid.fit, 2) + power(points.engagement - centroid.engagement, 2)
            + power(points.intent - centroid.intent, 2) + power(points.decision_views - centroid.decision_views, 2)
        ) / 2 as similarity
    from points
    cross join centroid
    where not points.is_customer and points.fit > 0
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
