with

readers as (
    {{ contacts_who_did('page_category', ['integration_guide'], at_least=2, within_days=7) }}
)

select
    contact_key,
    {{ segment_reason("'read '", 'times', "' integration guides in the last 7 days'") }} as reason,
    last_at as qualified_at
from readers
