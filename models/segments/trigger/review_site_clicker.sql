with

clickers as (
    {{ contacts_who_did('event', ['Review Site Clicked'], within_days=14) }}
)

select
    contact_key,
    'clicked through to a review site' as reason,
    last_at as qualified_at
from clickers
