with

viewers as (
    {{ contacts_who_did('page_category', ['pricing', 'roi_tool', 'security'], within_days=14) }}
)

select
    contact_key,
    {{ segment_reason("'viewed pricing, ROI or security pages '", 'times', "' times in the last 14 days'") }} as reason,
    last_at as qualified_at
from viewers
