select
    scores.contact_key,
    {{ segment_reason(
        "'engagement '",
        one_decimal('scores.engagement_score'),
        "' at target account '",
        'profiles.company_id',
    ) }} as reason,
    scores.last_activity_at as qualified_at,
    scores.engagement_score >= {{ var('segments__high_engagement_min') }} as enters
from {{ ref('int_contact_scores') }} as scores
inner join {{ ref('int_contact_profiles') }} as profiles on scores.contact_key = profiles.contact_key
inner join {{ ref('int_account_features') }} as accounts on profiles.company_id = accounts.company_id
where accounts.is_target_account and scores.engagement_score >= {{ var('segments__high_engagement_exit_min') }}
