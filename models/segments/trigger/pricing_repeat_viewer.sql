with

viewers as (
    {{ contacts_who_did('page_category', ['pricing'], at_least=3, within_days=7) }}
)

select
    contact_key,
    {{ segment_reason("'viewed pricing '", 'times', "' times in the last 7 days'") }} as reason,
    last_at as qualified_at
from viewers
