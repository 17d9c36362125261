with

viewers as (
    {{ contacts_who_did('event', ['Video Watched'], within_days=14) }}
)

select
    contact_key,
    {{ segment_reason("'watched '", 'times', "' product videos in the last 14 days'") }} as reason,
    last_at as qualified_at
from viewers
