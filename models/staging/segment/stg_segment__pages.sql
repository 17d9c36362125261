with

pages as (
    select * from {{ ref('base_segment__pages') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        page_view_id,
        anonymous_id,
        user_id,

        -- page
        url,
        path,
        page_name,
        title,
        referrer,
        user_agent,
        page_category,
        funnel_stage,

        -- session
        session_id,
        engaged_seconds,
        -- the last sign of activity on the page (the source's last heartbeat), if it has one
        last_active_at,

        -- timestamps
        occurred_at,
        -- without a received_at, the moment it happened (never the load time: arrived_at)
        {{ arrived_at('received_at', 'occurred_at') }} as received_at
    from pages
)

select * from final
