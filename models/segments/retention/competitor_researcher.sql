with

researchers as (
    {{ contacts_who_did('page_category', ['comparison'], within_days=30) }}
)

select
    contact_key,
    {{ segment_reason("'viewed competitor comparisons '", 'times', "' times in the last 30 days'") }} as reason,
    last_at as qualified_at
from researchers
