{#- Viewed the demo-request page in the last 7 days and has not requested a demo since. -#}
with

views as (
    {{ contacts_who_did('page_category', ['demo_request'], within_days=7) }}
),

requests as (
    {{ contacts_who_did('event', ['Demo Requested']) }}
)

select
    views.contact_key,
    'viewed the demo page without requesting a demo' as reason,
    views.last_at as qualified_at
from views
left join requests on views.contact_key = requests.contact_key
where requests.last_at is null or requests.last_at < views.last_at
