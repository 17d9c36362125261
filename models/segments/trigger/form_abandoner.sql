with

abandoners as (
    {{ contacts_who_did_without('event', ['Form Started'], 'event', ['Form Submitted'], within_days=7) }}
)

select
    contact_key,
    'started a form and did not submit it' as reason,
    last_at as qualified_at
from abandoners
