with

requests as (
    {{ contacts_who_did('event', ['Demo Requested'], within_days=7) }}
)

select
    contact_key,
    'requested a demo' as reason,
    last_at as qualified_at
from requests
