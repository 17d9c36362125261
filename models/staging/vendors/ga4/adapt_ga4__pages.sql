{{ config(enabled=adapter_enabled('ga4', 'pages')) }}
{#- GA4 page_view events as contract page views: page_location, page_title and page_referrer
    from the event's parameters, the path from page_location. Engaged seconds: GA4 reports
    engagement time (engagement_time_msec) on later events, each the time since the report
    before, so a page view is given the engagement reported by the session's events after
    it up to the next page view, that page view's own report included (it closes the page
    before it); null for a page view of no session. -#}
with

events as (
    {{ ga4_events() }}
),

counted as (
    -- each event with the number of page views of its session up to it (a page view before
    -- the other events of its instant)
    select
        event_id,
        session_id,
        case when event_name = 'page_view' then 1 else 0 end as is_page_view,
        {{ safe_cast_number('engagement_time_msec') }} as engagement_msec,
        sum(case when event_name = 'page_view' then 1 else 0 end) over (
            partition by session_id
            order by
                {{ safe_cast_number('event_timestamp') }},
                case when event_name = 'page_view' then 0 else 1 end,
                event_id
            rows between unbounded preceding and current row
        ) as page_views_so_far
    from events
    where session_id is not null
),

engaged_times as (
    -- a report is for the last page view before it: a page view's own, for the one before
    select
        page_views.event_id,
        -- whole seconds, half up (alike on every engine)
        cast(floor((coalesce(sum(reports.engagement_msec), 0) + 500) / 1000.0) as {{ dbt.type_bigint() }})
            as engaged_seconds
    from counted as page_views
    left join counted as reports
        on
            page_views.session_id = reports.session_id
            and page_views.page_views_so_far = reports.page_views_so_far - reports.is_page_view
    where page_views.is_page_view = 1
    group by page_views.event_id
),

final as (
    select
        events.event_id as id,
        events.user_pseudo_id as anonymous_id,
        events.user_id,
        -- microseconds since 1970: staging reads epoch timestamps
        events.event_timestamp as timestamp,
        cast(null as {{ dbt.type_string() }}) as received_at,
        {{ json_array_param('events.event_params', 'page_location') }} as url,
        {{ url_path(json_array_param('events.event_params', 'page_location')) }} as path,
        cast(null as {{ dbt.type_string() }}) as name,
        {{ json_array_param('events.event_params', 'page_title') }} as title,
        {{ json_array_param('events.event_params', 'page_referrer') }} as referrer,
        cast(null as {{ dbt.type_string() }}) as context_user_agent,
        events.session_id,
        cast(engaged_times.engaged_seconds as {{ dbt.type_string() }}) as engaged_seconds,
        cast(null as {{ dbt.type_string() }}) as last_active_at,
        events._source_file,
        {{ vendor_row_number('events.event_id') }} as _source_row_number,
        events._loaded_at
    from events
    left join engaged_times
        on events.event_id = engaged_times.event_id
    where events.event_name = 'page_view'
)

select * from final
