with

tracks as (
    select * from {{ ref('base_segment__tracks') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        track_id,
        anonymous_id,
        user_id,

        -- event
        event_name,
        raw_event_name,
        is_unmapped_event,
        properties,
        {{ json_extract_text('properties', 'category') }} as product_category,
        {{ json_extract_text('properties', 'product_id') }} as product_id,
        {{ json_extract_text('properties', 'order_id') }} as order_id,
        {{ safe_cast_number(json_extract_text('properties', 'revenue')) }} as revenue,
        {{ safe_cast_number(json_extract_text('properties', 'discount')) }} as discount,
        {{ json_extract_text('properties', 'coupon') }} as coupon,
        session_id,

        -- timestamps
        occurred_at,
        -- without a received_at, the moment it happened (never the load time: arrived_at)
        {{ arrived_at('received_at', 'occurred_at') }} as received_at
    from tracks
)

select * from final
