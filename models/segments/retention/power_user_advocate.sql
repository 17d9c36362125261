select
    scores.contact_key,
    {{ segment_reason("'customer with engagement '", one_decimal('scores.engagement_score')) }} as reason,
    scores.last_activity_at as qualified_at,
    scores.engagement_score >= {{ var('segments__advocate_engagement_min') }} as enters
from {{ ref('int_contact_scores') }} as scores
where scores.engagement_score >= {{ var('segments__advocate_engagement_exit_min') }}
