select
    scores.contact_key,
    {{ segment_reason(
        "'renews '",
        'cast(accounts.renews_at as date)',
        "' with engagement '",
        one_decimal('scores.engagement_score'),
    ) }} as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_account_features') }} as accounts
inner join {{ ref('int_contact_profiles') }} as profiles on accounts.company_id = profiles.company_id
inner join {{ ref('int_contact_scores') }} as scores on profiles.contact_key = scores.contact_key
where
    accounts.renews_at <= {{ dbt.dateadd('day', 90, as_of()) }}
    and scores.engagement_score < {{ var('segments__low_engagement_max') }}
