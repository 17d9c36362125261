{#- Recency, frequency and monetary value of every contact who completed an order by as_of,
    as customer-lifetime models read them: the days with an order (a second order the same day
    is not a repeat purchase), the repeat purchase days (frequency), the days from the first to
    the last order day (recency), the days from the first order day to as_of (age) and since the
    last one, and revenue per order. Reads the order events once. -#}
with

orders as (
    select
        contact_key,
        cast(occurred_at as date) as order_date,
        revenue
    from {{ ref('int_events_unified') }}
    where event_name = 'Order Completed'
),

per_contact as (
    select
        contact_key,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        count(distinct order_date) as order_days,
        sum(revenue) as revenue
    from orders
    group by contact_key
),

{%- set as_of_date = 'cast(' ~ as_of() ~ ' as date)' %}

final as (
    select
        -- grain
        contact_key,

        -- dates
        first_order_date,
        last_order_date,

        -- frequency
        orders,
        order_days,
        order_days - 1 as repeat_order_days,

        -- recency and age, in days
        {{ dbt.datediff('first_order_date', 'last_order_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('first_order_date', as_of_date, 'day') }}
            as customer_age_days,
        {{ dbt.datediff('last_order_date', as_of_date, 'day') }}
            as days_since_last_order,

        -- monetary
        revenue,
        revenue / orders as average_order_value
    from per_contact
)

select * from final
