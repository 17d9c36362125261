with

readers as (
    {{ contacts_who_did('page_category', ['case_study'], within_days=14) }}
)

select
    contact_key,
    {{ segment_reason("'read '", 'times', "' case studies in the last 14 days'") }} as reason,
    last_at as qualified_at
from readers
