{#- One row per day from var metrics__time_spine_start (or, for a build as of an earlier
    instant, such as a replay of old exports, the first of January of as_of's year ten years
    before) to the day of as_of: the calendar the semantic layer (MetricFlow) joins metrics
    to, so cumulative metrics and days without rows have a place. -#}
{%- set start = dbt.cast(dbt.string_literal(var('metrics__time_spine_start')), dbt.type_timestamp()) -%}
{%- set earlier = dbt.dateadd('year', -10, dbt.date_trunc('year', as_of())) -%}
with

days as (
    {{ dbt.date_spine(
        'day',
        'case when ' ~ start ~ ' <= ' ~ as_of() ~ ' then ' ~ start ~ ' else ' ~ earlier ~ ' end',
        dbt.dateadd('day', 1, as_of()),
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
