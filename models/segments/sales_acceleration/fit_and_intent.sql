{#- Enters at fit >= 70 and intent >= 50; a member stays while fit >= 60 and intent >= 40. -#}
select
    contact_key,
    {{ segment_reason("'fit '", one_decimal('fit_score'), "', intent '", one_decimal('intent_score')) }} as reason,
    last_activity_at as qualified_at,
    fit_score >= {{ var('segments__fit_min') }} and intent_score >= {{ var('segments__intent_min') }} as enters
from {{ ref('int_contact_scores') }}
where fit_score >= {{ var('segments__fit_exit_min') }} and intent_score >= {{ var('segments__intent_exit_min') }}
