{# Visits of each `key` (a contact, a device) from `events`: rows of `key`, event_source
   ('pages' or 'tracks'), session_id, engaged_seconds, last_active_at (a page's last sign of
   activity, e.g. Snowplow's last page ping of it; null where the source has none) and
   occurred_at.

   Page views that carry the source's session id (Snowplow's domain_sessionid, GA4's
   ga_session_id) are one visit per session, with the session's tracked events: a visit
   starts at the session's first event and ends at its last, or at the last activity of one
   of its pages (last_active_at) when that is later. A session id seen for longer
   than var visits__max_session_days starts a new visit every that many days from the
   session's first event (a bot or a stuck cookie). Page views without one are split by the
   gap rule: more than var visits__session_gap_minutes since the page view before starts a
   new visit. Events of a session without a page view are no visit. Each visit has its number
   in `key`'s visits by start and the hours since the end of the visit before. #}
{% macro visits(events, key) -%}
    {%- set session_seconds = var('visits__max_session_days') * 86400 -%}
    with

    session_events as (
        select
            {{ key }} as visitor,
            event_source,
            session_id,
            engaged_seconds,
            last_active_at,
            occurred_at,
            min(occurred_at) over (partition by {{ key }}, session_id) as session_started_at
        from {{ events }}
        where session_id is not null
    ),

    page_views_without_session as (
        select
            {{ key }} as visitor,
            engaged_seconds,
            last_active_at,
            occurred_at,
            lag(occurred_at) over (partition by {{ key }} order by occurred_at) as previous_view_at
        from {{ events }}
        where session_id is null and event_source = 'pages'
    ),

    gap_flagged as (
        select
            visitor,
            engaged_seconds,
            last_active_at,
            occurred_at,
            case
                when previous_view_at is null then 1
                when {{ dbt.datediff('previous_view_at', 'occurred_at', 'minute') }}
                    > {{ var('visits__session_gap_minutes') }} then 1
                else 0
            end as is_visit_start
        from page_views_without_session
    ),

    visit_events as (
        select
            visitor,
            session_id,
            cast(floor(
                {{ dbt.datediff('session_started_at', 'occurred_at', 'second') }} / {{ session_seconds }}
            ) as {{ dbt.type_bigint() }}) as part,
            event_source,
            engaged_seconds,
            last_active_at,
            occurred_at
        from session_events
        union all
        select
            visitor,
            cast(null as {{ dbt.type_string() }}) as session_id,
            sum(is_visit_start) over (
                partition by visitor order by occurred_at rows between unbounded preceding and current row
            ) as part,
            'pages' as event_source,
            engaged_seconds,
            last_active_at,
            occurred_at
        from gap_flagged
    ),

    grouped as (
        select
            visitor,
            session_id,
            part,
            sum(case when event_source = 'pages' then 1 else 0 end) as page_views,
            sum(case when event_source = 'pages' then engaged_seconds end) as engaged_seconds,
            min(occurred_at) as visit_started_at,
            max(greatest(occurred_at, coalesce(last_active_at, occurred_at))) as visit_ended_at
        from visit_events
        group by visitor, session_id, part
        having sum(case when event_source = 'pages' then 1 else 0 end) > 0
    ),

    numbered as (
        select
            grouped.*,
            row_number() over (
                partition by visitor
                order by visit_started_at, visit_ended_at, coalesce(session_id, ''), part
            ) as visit_number
        from grouped
    )

    select
        -- ids
        {{ dbt.concat(['visitor', "'|'", dbt.cast('visit_number', dbt.type_string())]) }} as visit_id,
        visitor as {{ key }},
        visit_number,
        session_id,

        -- measures
        page_views,
        engaged_seconds,
        {{ dbt.datediff(
            'lag(visit_ended_at) over (partition by visitor order by visit_number)',
            'visit_started_at', 'hour')
        }} as hours_since_previous_visit,

        -- timestamps
        visit_started_at,
        visit_ended_at
    from numbered
{%- endmacro %}
