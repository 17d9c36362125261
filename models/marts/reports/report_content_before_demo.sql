{#- One row per page category and path: the content prospects read in the 30 days before
    they first requested a demo, by how many of them and how often. -#}
with

events as (
    select * from {{ ref('int_events_unified') }}
),

first_demos as (
    select
        contact_key,
        min(occurred_at) as demo_requested_at
    from events
    where event_name = 'Demo Requested'
    group by contact_key
),

requesters as (
    select count(*) as demo_requesters from first_demos
),

views_before as (
    select
        events.page_category,
        events.path,
        events.contact_key
    from events
    inner join first_demos on events.contact_key = first_demos.contact_key
    where
        events.event_source = 'pages'
        and events.occurred_at < first_demos.demo_requested_at
        and events.occurred_at >= {{ dbt.dateadd('day', -30, 'first_demos.demo_requested_at') }}
),

final as (
    select
        views_before.page_category,
        views_before.path,
        count(*) as page_views,
        count(distinct views_before.contact_key) as demo_requesters_who_read,
        {{ round_to('count(distinct views_before.contact_key) * 1.0 / max(requesters.demo_requesters)', 4) }}
            as share_of_demo_requesters
    from views_before
    cross join requesters
    group by views_before.page_category, views_before.path
)

select * from final
