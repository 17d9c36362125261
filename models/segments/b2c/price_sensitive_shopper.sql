with

orders as (
    select
        contact_key,
        count(*) as orders,
        sum(case when discount > 0 or coupon is not null then 1 else 0 end) as discounted_orders,
        max(occurred_at) as last_order_at
    from {{ ref('int_events_unified') }}
    where event_name = 'Order Completed'
    group by contact_key
)

select
    contact_key,
    {{ segment_reason('discounted_orders', "' of '", 'orders', "' orders discounted or with a coupon'") }} as reason,
    last_order_at as qualified_at
from orders
where orders >= 2 and discounted_orders * 2 > orders
