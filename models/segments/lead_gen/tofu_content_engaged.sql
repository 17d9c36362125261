with

readers as (
    {{ contacts_who_did('page_category', ['blog'], within_days=30) }}
)

select
    contact_key,
    {{ segment_reason("'read '", 'times', "' awareness articles in the last 30 days'") }} as reason,
    last_at as qualified_at
from readers
