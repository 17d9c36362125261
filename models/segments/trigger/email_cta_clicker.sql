with

clickers as (
    {{ contacts_who_did('event', ['Email Clicked'], within_days=7) }}
)

select
    contact_key,
    {{ segment_reason("'clicked '", 'times', "' email links in the last 7 days'") }} as reason,
    last_at as qualified_at
from clickers
