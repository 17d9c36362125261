{#- One row per event stream (page views, tracked events, identify calls, email events): its
    staged rows, how many the build counted, and how many it left out because they reached
    the warehouse after as_of (arrived_at: received_at, else when they happened) or happened
    after it. A build as of a past instant leaves out what it could not have known then;
    the daily build leaves out rows stamped in the future. -#}
{%- set streams = [
    ('pages', 'stg_segment__pages'),
    ('tracks', 'stg_segment__tracks'),
    ('identifies', 'stg_segment__identifies'),
    ('email_events', 'stg_esp__email_events'),
] -%}

with

{% for source_table, model in streams %}
    {{ source_table }} as (
        select
            '{{ source_table }}' as source_table,
            count(*) as rows_staged,
            sum(case when {{ known_by_as_of('occurred_at', 'received_at') }} then 1 else 0 end) as rows_counted,
            sum(
                case
                    when occurred_at <= {{ as_of() }} and not {{ known_by_as_of('occurred_at', 'received_at') }}
                        then 1
                    else 0
                end
            ) as rows_arrived_after_as_of,
            sum(case when occurred_at > {{ as_of() }} then 1 else 0 end) as rows_happened_after_as_of
        from {{ ref(model) }}
    ),
{% endfor %}

unioned as (
    {% for source_table, model in streams %}
        select * from {{ source_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        source_table,
        cast(rows_staged as {{ dbt.type_bigint() }}) as rows_staged,
        cast(coalesce(rows_counted, 0) as {{ dbt.type_bigint() }}) as rows_counted,
        cast(coalesce(rows_arrived_after_as_of, 0) as {{ dbt.type_bigint() }}) as rows_arrived_after_as_of,
        cast(coalesce(rows_happened_after_as_of, 0) as {{ dbt.type_bigint() }}) as rows_happened_after_as_of,
        {{ as_of() }} as as_of
    from unioned
)

select * from final
