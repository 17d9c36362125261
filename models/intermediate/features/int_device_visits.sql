{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={
        'column': 'visit_ended_at', 'mode': 'key', 'key': 'anonymous_id',
        'events_model': 'int_events_unioned', 'events_column': 'occurred_at',
        'events_filter': "event_source = 'pages' or (event_source = 'tracks' and session_id is not null)",
    },
    post_hook=["{{ remember_build_state() }}"],
) }}
{#- A device's visits (macros/behavior/visits.sql), whoever it belongs to: the same rules as
    a contact's visits over the web events of one anonymous id, so a source's sessions come
    out as the source counts them (Snowplow's sessions, GA4's). Incremental: a build replaces
    the visits of the devices with a page view (or an event of a session) in its window. -#}
with

web_events as (
    select
        anonymous_id,
        event_source,
        session_id,
        engaged_seconds,
        occurred_at
    from {{ ref('int_events_unioned') }}
    where
        not {{ is_missing_identifier('anonymous_id') }}
        and (event_source = 'pages' or (event_source = 'tracks' and session_id is not null))
        and {{ in_incremental_window() }}
),

final as (
    {{ visits('web_events', 'anonymous_id') }}
)

select * from final
