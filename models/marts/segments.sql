{#- One row per segment of the catalog: its settings from the segment model's YAML and how
    many contacts are in it as of as_of. -#}
with

catalog as (
    {%- for node in segment_nodes() %}
        select
            '{{ node.name }}' as segment_id,
            {{ segment_setting_sql(node, 'name') }} as segment_name,
            {{ segment_setting_sql(node, 'goal') }} as goal,
            {{ segment_setting_sql(node, 'priority') }} as priority,
            {{ segment_setting_sql(node, 'cadence') }} as cadence,
            {{ segment_setting_sql(node, 'audience') }} as audience,
            {{ segment_setting_sql(node, 'channel') }} as channel,
            cast({{ segment_setting_sql(node, 'email_group') }} as {{ dbt.type_string() }}) as email_group,
            {{ segment_setting_sql(node, 'expiry_days') }} as expiry_days,
            {{ segment_setting_sql(node, 'min_dwell_days') }} as min_dwell_days,
            {{ 'true' if 'enters' in node.columns else 'false' }} as has_exit_threshold,
            {{ segment_setting_sql(node, 'description') }} as description
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as goal,
        cast(null as {{ dbt.type_int() }}) as priority,
        cast(null as {{ dbt.type_string() }}) as cadence,
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as email_group,
        cast(null as {{ dbt.type_int() }}) as expiry_days,
        cast(null as {{ dbt.type_int() }}) as min_dwell_days,
        false as has_exit_threshold,
        cast(null as {{ dbt.type_string() }}) as description
    where false
),

sizes as (
    select
        segment_id,
        count(*) as member_count
    from {{ ref('segment_membership') }}
    group by segment_id
),

final as (
    select
        catalog.segment_id,
        catalog.segment_name as name,
        catalog.goal,
        catalog.priority,
        catalog.cadence,
        catalog.audience,
        catalog.channel,
        catalog.email_group,
        catalog.expiry_days,
        catalog.min_dwell_days,
        catalog.has_exit_threshold,
        catalog.description,
        coalesce(sizes.member_count, 0) as member_count
    from catalog
    left join sizes on catalog.segment_id = sizes.segment_id
)

select * from final
