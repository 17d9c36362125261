{#- One row per source table and event name that seeds/event_name_map.csv does not map:
    such events flow through under their normalized name, flagged unmapped and scored 0.
    How often they happened, to how many contacts, first and last: what to map next. -#}
with

unmapped as (
    select * from {{ ref('int_events_unified') }}
    where is_unmapped_event
),

final as (
    select
        -- grain
        event_source as source_table,
        event_name,

        -- the seed row that would map it: its event_source there (tracks or email)
        case when event_source = 'email_events' then 'email' else 'tracks' end as map_event_source,

        -- measures
        count(*) as events,
        count(distinct contact_key) as contacts,

        -- timestamps
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        {{ as_of() }} as as_of
    from unmapped
    group by event_source, event_name
)

select * from final
