{#- One row per relation the syncs read: the public marts (contacts, segment_membership) and
    every export. For each: its rows, the as_of and the builds (dbt invocation ids) its rows
    come from, how many builds all of them come from together, and for the marts their rows
    as of the previous build (from their snapshot history) and the smallest share of those
    rows a build may keep (vars checks__*_min_share_of_previous), so the volume suite can
    tell a normal day from a collapse. Feeds the mart_freshness and mart_volume suites. -#}
{%- set marts = [
    {'name': 'contacts', 'history': 'contact_score_snapshot', 'valid_from': 'dbt_valid_from', 'valid_to': 'dbt_valid_to',
     'min_share': var('checks__contacts_min_share_of_previous'), 'warn_share': var('checks__contacts_warn_share_of_previous')},
    {'name': 'segment_membership', 'history': 'segment_membership_history', 'valid_from': 'valid_from', 'valid_to': 'valid_to',
     'min_share': var('checks__memberships_min_share_of_previous'), 'warn_share': var('checks__memberships_warn_share_of_previous')},
] -%}
{#- every model of models/exports/, read by its relation name (a ref would need a hint per
    export; a new export is checked without editing this file) -#}
{%- set exports = {} -%}
{%- for node in (graph.nodes.values() if execute else []) -%}
    {%- if node.resource_type == 'model' and node.original_file_path.startswith('models/exports/') -%}
        {%- do exports.update({node.name: node.relation_name}) -%}
    {%- endif -%}
{%- endfor -%}
{%- set relations = {} -%}
{%- for mart in marts -%}
    {%- do relations.update({mart.name: ref(mart.name)}) -%}
{%- endfor -%}
{%- do relations.update(exports) -%}
{#- a row written outside a dbt build has no build id: it counts as a build of its own -#}
{%- set no_build = "'(no build id)'" -%}

with

{% for mart in marts %}
    {{ mart.name }}__now as (
        select
            count(*) as row_count,
            count(distinct as_of) as as_of_values,
            cast(max(as_of) as {{ dbt.type_string() }}) as built_as_of,
            count(distinct coalesce(build_id, {{ no_build }})) as build_ids,
            max(build_id) as build_id
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
            'mart' as kind,
            current_build.row_count,
            current_build.as_of_values,
            current_build.built_as_of,
            current_build.build_ids,
            current_build.build_id,
            previous.previous_as_of,
            previous.previous_row_count,
            {{ mart.min_share }} as min_share_of_previous,
            {{ mart.warn_share }} as warn_share_of_previous
        from {{ mart.name }}__now as current_build
        left join {{ mart.name }}__previous as previous on 1 = 1
    ),
{% endfor %}

{% for export in exports | sort %}
    {{ export }}__checked as (
        select
            '{{ export }}' as relation,
            'export' as kind,
            count(*) as row_count,
            cast(null as {{ dbt.type_bigint() }}) as as_of_values,
            cast(null as {{ dbt.type_string() }}) as built_as_of,
            count(distinct coalesce(build_id, {{ no_build }})) as build_ids,
            max(build_id) as build_id,
            cast(null as {{ dbt.type_timestamp() }}) as previous_as_of,
            cast(null as {{ dbt.type_bigint() }}) as previous_row_count,
            cast(null as {{ dbt.type_numeric() }}) as min_share_of_previous,
            cast(null as {{ dbt.type_numeric() }}) as warn_share_of_previous
        from {{ exports[export] }}
    ),
{% endfor %}

unioned as (
    {%- for name in relations %}
        select * from {{ name }}__checked
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

{# how many builds the rows of all these relations come from together: one, for a build
    the syncs may send #}
every_build as (
    {%- for name, relation in relations.items() %}
        select distinct coalesce(build_id, {{ no_build }}) as build_id from {{ relation }}
        {%- if not loop.last %}
            union
        {%- endif %}
    {%- endfor %}
),

builds as (
    select count(*) as builds_across_relations from every_build
),

final as (
    select
        unioned.relation,
        unioned.kind,
        unioned.row_count,
        unioned.as_of_values,
        unioned.built_as_of,
        unioned.build_ids,
        unioned.build_id,
        builds.builds_across_relations,
        unioned.previous_as_of,
        unioned.previous_row_count,
        case
            when
                unioned.previous_row_count > 0
                then {{ round_to('unioned.row_count * 1.0 / unioned.previous_row_count', 3) }}
        end as share_of_previous,
        unioned.min_share_of_previous,
        unioned.warn_share_of_previous
    from unioned
    cross join builds
)

select * from final
