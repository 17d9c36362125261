{#- Added to cart or started checkout in the last 7 days, at least 24 hours ago, and ordered
    nothing since. -#}
with

carts as (
    {{ contacts_who_did_without(
        'event', ['Product Added', 'Checkout Started'], 'event', ['Order Completed'], within_days=7,
    ) }}
)

select
    contact_key,
    {{ segment_reason(
        "'cart activity on '", 'cast(last_at as date)', "' without an order within 24 hours'",
    ) }} as reason,
    last_at as qualified_at
from carts
where last_at <= {{ dbt.dateadd('hour', -24, as_of()) }}
