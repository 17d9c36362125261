{#- One row per day from var metrics__time_spine_start to the day of as_of: the calendar the
    semantic layer (MetricFlow) joins metrics to, so cumulative metrics and days without
    rows have a place. -#}
with

days as (
    {{ dbt.date_spine(
        'day',
        dbt.cast(dbt.string_literal(var('metrics__time_spine_start')), dbt.type_timestamp()),
        dbt.dateadd('day', 1, as_of()),
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
