{#- The engaged time of each page view of the last 30 days (time on page): the source's own
    engaged seconds when its page views carry them (Snowplow's page pings, GA4's engagement
    time), else the seconds to the contact's next page view when that came within var
    visits__session_gap_minutes (the same visit); null for the last page of a visit without
    a source figure (how long it was read is not known). -#}
with

page_views as (
    select
        contact_key,
        event_id as page_view_id,
        path,
        page_category,
        engaged_seconds as source_engaged_seconds,
        occurred_at,
        lead(occurred_at) over (partition by contact_key order by occurred_at, event_id) as next_view_at
    from {{ ref('int_events_unified') }}
    where
        event_source = 'pages'
        and {{ is_within_days('occurred_at', 31) }}
),

final as (
    select
        -- grain
        page_view_id,
        contact_key,

        -- page
        path,
        page_category,

        -- engaged time
        coalesce(
            source_engaged_seconds,
            case
                when {{ dbt.datediff('occurred_at', 'next_view_at', 'second') }}
                    <= 60 * {{ var('visits__session_gap_minutes') }}
                    then {{ dbt.datediff('occurred_at', 'next_view_at', 'second') }}
            end
        ) as engaged_seconds,
        case
            when source_engaged_seconds is not null then 'source'
            when {{ dbt.datediff('occurred_at', 'next_view_at', 'second') }}
                <= 60 * {{ var('visits__session_gap_minutes') }}
                then 'next_page_gap'
        end as engaged_seconds_from,

        -- timestamps
        occurred_at
    from page_views
    where {{ is_within_days('occurred_at', 30) }}
)

select * from final
