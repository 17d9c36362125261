{#- Crossed the routing threshold: lead score at the MQL bar, or the behavioural path (pricing
    viewed 3+ times in 30 days, a content download, and the last 3 emails opened). Members
    enter the routing queue (mql_routing_queue) with their owner. -#}
with

pricing as (
    {{ contacts_who_did('page_category', ['pricing'], at_least=3, within_days=30) }}
),

downloads as (
    {{ contacts_who_did('event', ['Content Downloaded'], within_days=30) }}
),

behaviour_path as (
    select pricing.contact_key
    from pricing
    inner join downloads on pricing.contact_key = downloads.contact_key
    inner join {{ ref('int_contact_features') }} as features on pricing.contact_key = features.contact_key
    where features.consecutive_email_opens >= 3
)

select
    scores.contact_key,
    case
        when scores.is_mql
            then {{ segment_reason("'lead score '", one_decimal('scores.lead_score'), "' at or above the MQL bar'") }}
        else 'pricing 3+ times, a content download and the last 3 emails opened'
    end as reason,
    scores.last_activity_at as qualified_at
from {{ ref('int_contact_scores') }} as scores
left join behaviour_path on scores.contact_key = behaviour_path.contact_key
where scores.is_mql or behaviour_path.contact_key is not null
