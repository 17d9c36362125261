{{ config(enabled=adapter_enabled('snowplow')) }}
{#- Snowplow page_view events as contract page views. Not page views of their own, and so not
    here: page pings (the heartbeats of activity tracking: they make the engaged time) and a
    page_view event that repeats the page view id of an earlier one (the same page view sent
    twice under two event ids; the earliest by derived_tstamp, dvce_created_tstamp is kept, as
    Snowplow's web package keeps it). Two rows of one event id both come through: staging
    keeps the first received (collector_tstamp) and sets the other aside as duplicate_id. -#}
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
    -- window is the minimum visit length
    select
        page_view_id,
        domain_sessionid,
        {{ var('snowplow__heartbeat') }} * (count(distinct floor(
            {{ epoch_seconds('created_at') }} / {{ var('snowplow__heartbeat') }}
        )) - 1) + {{ var('snowplow__min_visit_length') }} as engaged_seconds
    from events
    where
        kind = 'page_ping'
        and page_view_id is not null
        and created_at is not null
    group by page_view_id, domain_sessionid
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
)

select * from final
