{{ config(materialized='table') }}
{#- A device's visits (macros/behavior/visits.sql), whoever it belongs to: the same rules as
    a contact's visits over the web events of one anonymous id, so a source's sessions come
    out as the source counts them (Snowplow's sessions, GA4's). A session belongs to one
    device, the one its first event came from (a session whose device id changed midway is
    one visit, of that device, as Snowplow's web package counts it); a session without any
    device id is a visit of no known device (anonymous_id null). Rebuilt whole each build: a
    session's device can change when its earlier events arrive later. -#}
with

web_events as (
    select
        anonymous_id,
        event_source,
        session_id,
        engaged_seconds,
        last_active_at,
        occurred_at
    from {{ ref('int_events_unioned') }}
    where event_source = 'pages' or (event_source = 'tracks' and session_id is not null)
),

session_devices as (
    -- the device of a session's first event that has one
    select
        session_id,
        anonymous_id
    from (
        select
            session_id,
            anonymous_id,
            row_number() over (
                partition by session_id order by occurred_at, anonymous_id
            ) as device_rank
        from web_events
        where session_id is not null and not {{ is_missing_identifier('anonymous_id') }}
    ) as ranked
    where device_rank = 1
),

device_events as (
    select
        -- a session without a device id is keyed by the session itself
        case
            when web_events.session_id is null then web_events.anonymous_id
            when session_devices.anonymous_id is not null then session_devices.anonymous_id
            else {{ dbt.concat(["'session:'", 'web_events.session_id']) }}
        end as device_key,
        web_events.event_source,
        web_events.session_id,
        web_events.engaged_seconds,
        web_events.last_active_at,
        web_events.occurred_at
    from web_events
    left join session_devices
        on web_events.session_id = session_devices.session_id
    where
        web_events.session_id is not null
        or not {{ is_missing_identifier('web_events.anonymous_id') }}
),

visits as (
    {{ visits('device_events', 'device_key') }}
),

final as (
    select
        visit_id,
        -- a session keyed by itself had no device (told from the key, not by joining
        -- session_devices again: DuckDB 2.0 returned no rows at all when this model read that
        -- CTE twice inside dbt's create table)
        case
            when device_key = {{ dbt.concat(["'session:'", 'session_id']) }} then null
            else device_key
        end as anonymous_id,
        visit_number,
        session_id,
        page_views,
        engaged_seconds,
        hours_since_previous_visit,
        visit_started_at,
        visit_ended_at
    from visits
)

select * from final
