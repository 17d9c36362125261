{#- Added to cart or started checkout in the last 7 days, at least 24 hours ago, and ordered
    nothing since. -#}
with

carts as (
    {{ contacts_who_did('event', ['Product Added', 'Checkout Started'], within_days=7) }}
),

orders as (
    {{ contacts_who_did('event', ['Order Completed']) }}
)

select
    carts.contact_key,
    {{ segment_reason(
        "'cart activity on '",
        'cast(carts.last_at as date)',
        "' without an order within 24 hours'",
    ) }} as reason,
    carts.last_at as qualified_at
from carts
left join orders on carts.contact_key = orders.contact_key
where
    carts.last_at <= {{ dbt.dateadd('hour', -24, as_of()) }}
    and (orders.last_at is null or orders.last_at < carts.last_at)
