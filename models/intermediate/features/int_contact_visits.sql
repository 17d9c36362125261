{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    incremental_window={
        'column': 'visit_ended_at', 'mode': 'key', 'key': 'contact_key', 'identity': 'contacts',
        'events_model': 'int_events_unified', 'events_column': 'occurred_at',
        'events_filter': "event_source = 'pages' or (event_source = 'tracks' and session_id is not null)",
    },
    post_hook=["{{ remember_build_state(identity=true) }}"],
) }}
{#- A contact's visits (macros/behavior/visits.sql): the source's sessions when its page views
    carry a session id, else page views split by a gap of more than var
    visits__session_gap_minutes; each with the gap since the contact's visit before, which
    the return-visit patterns read. Incremental: a build replaces the visits of the contacts
    with a page view (or an event of a session) in its window, and of the contacts the
    identity map changed. -#}
with

web_events as (
    select
        contact_key,
        event_source,
        session_id,
        engaged_seconds,
        last_active_at,
        occurred_at
    from {{ ref('int_events_unified') }}
    where
        (event_source = 'pages' or (event_source = 'tracks' and session_id is not null))
        and {{ in_incremental_window() }}
),

final as (
    {{ visits('web_events', 'contact_key') }}
)

select * from final
