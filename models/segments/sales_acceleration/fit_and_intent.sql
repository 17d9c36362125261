select
    contact_key,
    {{ segment_reason("'fit '", 'fit_score', "', intent '", 'intent_score') }} as reason,
    last_activity_at as qualified_at
from {{ ref('int_contact_scores') }}
where fit_score >= {{ var('segments__fit_min') }} and intent_score >= {{ var('segments__intent_min') }}
