{#- Started a form in the last 7 days and submitted none since the last start. -#}
with

starts as (
    {{ contacts_who_did('event', ['Form Started'], within_days=7) }}
),

submits as (
    {{ contacts_who_did('event', ['Form Submitted']) }}
)

select
    starts.contact_key,
    'started a form and did not submit it' as reason,
    starts.last_at as qualified_at
from starts
left join submits on starts.contact_key = submits.contact_key
where submits.last_at is null or submits.last_at < starts.last_at
