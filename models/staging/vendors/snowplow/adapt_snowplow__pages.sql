{{ config(enabled=adapter_enabled('snowplow', 'pages')) }}
{#- Snowplow page_view events as contract page views. Not page views of their own, and so not
    here: page pings (the heartbeats of activity tracking: they make the engaged time and the
    last_active_at of their page view) and a page_view event that repeats the page view id of
    an earlier one (the same page view sent twice under two event ids; the earliest by
    derived_tstamp, dvce_created_tstamp is kept, as Snowplow's web package keeps it). Two rows
    of one event id both come through: staging keeps the first received (collector_tstamp) and
    sets the other aside as duplicate_id.
    A page still open when a new session starts pings in that session without a page_view
    event of it there: its first ping there is a continued page view of that session (id
    <page view id>|<session>), as the web package counts a session of pings alone as one page
    view, started var snowplow__min_visit_length seconds before that ping. -#}
with

events as (
    {{ snowplow_events() }}
),

page_views as (
    select
        *,
        first_value(event_id) over (
            partition by page_view_id order by derived_at, created_at, event_id
        ) as first_event_id
    from events
    where kind = 'page_view'
),

engaged_times as (
    -- Snowplow's web package rule: pings in the same heartbeat window count once, the first
    -- window is the minimum visit length; the last ping is when the page was last active
    select
        page_view_id,
        domain_sessionid,
        {{ var('snowplow__heartbeat') }} * (count(distinct floor(
            {{ epoch_seconds('created_at') }} / {{ var('snowplow__heartbeat') }}
        )) - 1) + {{ var('snowplow__min_visit_length') }} as engaged_seconds,
        max(derived_at) as last_active_at
    from events
    where
        kind = 'page_ping'
        and page_view_id is not null
        and created_at is not null
    group by page_view_id, domain_sessionid
),

continued_pings as (
    -- pings of a page view in a session without a page_view event of it: the first one
    -- (by derived_tstamp) stands for the page view continued in that session
    select
        pings.*,
        row_number() over (
            partition by pings.page_view_id, pings.domain_sessionid
            order by pings.derived_at, pings.created_at, pings.event_id
        ) as ping_number
    from events as pings
    where
        pings.kind = 'page_ping'
        and pings.page_view_id is not null
        and pings.domain_sessionid is not null
        and pings.created_at is not null
        and not exists (
            select 1
            from events as viewed
            where
                viewed.kind = 'page_view'
                and viewed.page_view_id = pings.page_view_id
                and viewed.domain_sessionid = pings.domain_sessionid
        )
),

final as (
    select
        page_views.event_id as id,
        page_views.domain_userid as anonymous_id,
        page_views.user_id,
        -- derived_tstamp is when it happened (the device's clock corrected by the collector's)
        coalesce({{ clean_text('page_views.derived_tstamp') }}, page_views.collector_tstamp) as timestamp,
        page_views.collector_tstamp as received_at,
        page_views.page_url as url,
        page_views.page_urlpath as path,
        cast(null as {{ dbt.type_string() }}) as name,
        page_views.page_title as title,
        page_views.page_referrer as referrer,
        page_views.useragent as context_user_agent,
        page_views.domain_sessionid as session_id,
        -- no pings: 0 seconds; no page view id: pings cannot be told, so unknown
        case
            when page_views.page_view_id is not null
                then cast(coalesce(engaged_times.engaged_seconds, 0) as {{ dbt.type_string() }})
        end as engaged_seconds,
        cast(engaged_times.last_active_at as {{ dbt.type_string() }}) as last_active_at,
        page_views._source_file,
        {{ vendor_row_number(
            ['page_views.event_id', 'page_views.collector_tstamp', 'page_views.derived_tstamp']
        ) }} as _source_row_number,
        page_views._loaded_at
    from page_views
    left join engaged_times
        on
            page_views.page_view_id = engaged_times.page_view_id
            and (
                page_views.domain_sessionid = engaged_times.domain_sessionid
                or (page_views.domain_sessionid is null and engaged_times.domain_sessionid is null)
            )
    where page_views.page_view_id is null or page_views.first_event_id = page_views.event_id
    union all
    select
        {{ dbt.concat(['continued.page_view_id', "'|'", 'continued.domain_sessionid']) }} as id,
        continued.domain_userid as anonymous_id,
        continued.user_id,
        cast({{ dbt.dateadd(
            'second', -var('snowplow__min_visit_length'), 'continued.derived_at'
        ) }} as {{ dbt.type_string() }}) as timestamp,
        continued.collector_tstamp as received_at,
        continued.page_url as url,
        continued.page_urlpath as path,
        cast(null as {{ dbt.type_string() }}) as name,
        continued.page_title as title,
        continued.page_referrer as referrer,
        continued.useragent as context_user_agent,
        continued.domain_sessionid as session_id,
        cast(engaged_times.engaged_seconds as {{ dbt.type_string() }}) as engaged_seconds,
        cast(engaged_times.last_active_at as {{ dbt.type_string() }}) as last_active_at,
        continued._source_file,
        {{ vendor_row_number(
            ['continued.event_id', 'continued.collector_tstamp', 'continued.derived_tstamp']
        ) }} as _source_row_number,
        continued._loaded_at
    from continued_pings as continued
    inner join engaged_times
        on
            continued.page_view_id = engaged_times.page_view_id
            and continued.domain_sessionid = engaged_times.domain_sessionid
    where continued.ping_number = 1
)

select * from final
