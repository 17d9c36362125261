{#- One row per public mart the syncs read: its rows, the as_of it was built for, and its rows
    as of the previous build (from its snapshot history), so the volume suite can tell a
    normal day from a collapse. Feeds the mart_freshness and mart_volume suites. -#}
{%- set marts = [
    {'name': 'contacts', 'history': 'contact_score_snapshot', 'valid_from': 'dbt_valid_from', 'valid_to': 'dbt_valid_to'},
    {'name': 'segment_membership', 'history': 'segment_membership_history', 'valid_from': 'valid_from', 'valid_to': 'valid_to'},
] -%}

with

{% for mart in marts %}
    {{ mart.name }}__now as (
        select
            count(*) as row_count,
            count(distinct as_of) as as_of_values,
            cast(max(as_of) as {{ dbt.type_string() }}) as built_as_of
        from {{ ref(mart.name) }}
    ),

    {#- the previous build: the latest instant before as_of at which a history row began or ended #}
    {{ mart.name }}__previous_build as (
        select max(instant) as previous_as_of
        from (
            select {{ mart.valid_from }} as instant from {{ ref(mart.history) }}
            union all
            select {{ mart.valid_to }} as instant from {{ ref(mart.history) }}
        ) as instants
        where instant < {{ as_of() }}
    ),

    {{ mart.name }}__previous as (
        select
            build.previous_as_of,
            sum(case
                when
                    history.{{ mart.valid_from }} <= build.previous_as_of
                    and (history.{{ mart.valid_to }} is null or history.{{ mart.valid_to }} > build.previous_as_of)
                    then 1
                else 0
            end) as previous_row_count
        from {{ mart.name }}__previous_build as build
        cross join {{ ref(mart.history) }} as history
        where build.previous_as_of is not null
        group by build.previous_as_of
    ),

    {{ mart.name }}__checked as (
        select
            '{{ mart.name }}' as relation,
            current_build.row_count,
            current_build.as_of_values,
            current_build.built_as_of,
            previous.previous_as_of,
            previous.previous_row_count
        from {{ mart.name }}__now as current_build
        left join {{ mart.name }}__previous as previous on 1 = 1
    ),
{% endfor %}

unioned as (
    {%- for mart in marts %}
        select * from {{ mart.name }}__checked
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        relation,
        row_count,
        as_of_values,
        built_as_of,
        previous_as_of,
        previous_row_count,
        case
            when previous_row_count > 0 then {{ round_to('row_count * 1.0 / previous_row_count', 3) }}
        end as share_of_previous
    from unioned
)

select * from final
