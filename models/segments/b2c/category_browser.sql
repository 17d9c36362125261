{#- Viewed at least 3 products of one category in the last 14 days and never bought in it. -#}
with

daily as (
    select * from {{ ref('int_contact_activity_daily') }}
    where signal_type = 'event' and signal in ('Product Viewed', 'Order Completed') and signal_detail <> ''
),

by_category as (
    select
        contact_key,
        signal_detail as product_category,
        sum(
            case when signal = 'Product Viewed' and {{ is_within_days('activity_date', 14) }} then events else 0 end
        ) as views_14d,
        sum(case when signal = 'Order Completed' then events else 0 end) as orders,
        max(last_at) as last_at
    from daily
    group by contact_key, signal_detail
),

ranked as (
    select
        *,
        row_number() over (partition by contact_key order by views_14d desc, product_category asc) as category_rank
    from by_category
    where views_14d >= 3 and orders = 0
)

select
    contact_key,
    {{ segment_reason(
        "'viewed '",
        'views_14d',
        "' '",
        'product_category',
        "' products in 14 days, bought none'",
    ) }} as reason,
    last_at as qualified_at
from ranked
where category_rank = 1
