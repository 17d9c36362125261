with

bouncers as (
    {{ contacts_who_did_without('page_category', ['demo_request'], 'event', ['Demo Requested'], within_days=7) }}
)

select
    contact_key,
    'viewed the demo page without requesting a demo' as reason,
    last_at as qualified_at
from bouncers
