{#- One row per raw table (quarantine_reason '(all)') and per table and quarantine reason:
    rows staged (good), rows quarantined, the quarantine share, and the same figures at the
    latest passing check (quality.staging_volume_history, which `audience check` appends to
    after each run), with the limits of dbt_project.yml's checks__staging_* vars. Feeds the
    staging_volume suite. A table with no rows has nothing to judge: no failure. -#}
{%- set history = 'quality.staging_volume_history' -%}
{%- set min_rows = var('checks__staging_min_rows') -%}

with

listed as (
    {%- for staged in staged_sources() %}
        select '{{ staged.source_table }}' as source_table
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

counted as (
    {%- for staged in staged_sources() %}
        select
            '{{ staged.source_table }}' as source_table,
            quarantine_reason,
            count(*) as row_count
        from {{ ref(staged.base_model) }}
        group by quarantine_reason
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

tables as (
    select
        listed.source_table,
        coalesce(sum(case when counted.quarantine_reason is null then counted.row_count end), 0) as staged_rows,
        coalesce(sum(case when counted.quarantine_reason is not null then counted.row_count end), 0)
            as quarantined_rows,
        coalesce(sum(counted.row_count), 0) as total_rows
    from listed
    left join counted on listed.source_table = counted.source_table
    group by listed.source_table
),

figures as (
    select
        source_table,
        '(all)' as quarantine_reason,
        staged_rows,
        quarantined_rows,
        total_rows
    from tables
    union all
    select
        counted.source_table,
        counted.quarantine_reason,
        tables.staged_rows,
        counted.row_count as quarantined_rows,
        tables.total_rows
    from counted
    inner join tables on counted.source_table = tables.source_table
    where counted.quarantine_reason is not null
),

passing_checks as (
    select
        run_id,
        row_number() over (order by checked_at desc, run_id desc) as recency
    from (
        select distinct
            run_id,
            checked_at
        from {{ history }}
        where passed
    ) as runs
),

considered as (
    select count(*) as checks
    from passing_checks
    where recency <= {{ var('checks__staging_recent_checks') }}
),

previous as (
    select
        history.source_table,
        history.staged_rows as previous_staged_rows,
        history.build_id as previous_build_id
    from {{ history }} as history
    inner join passing_checks on history.run_id = passing_checks.run_id
    where passing_checks.recency = 1 and history.quarantine_reason = '(all)'
),

{# a reason absent from a check had a share of 0 there #}
recent as (
    select
        history.source_table,
        history.quarantine_reason,
        sum(case
            when history.total_rows > 0 then history.quarantined_rows * 1.0 / history.total_rows
            else 0
        end) / max(considered.checks) as recent_quarantine_share
    from {{ history }} as history
    inner join passing_checks on history.run_id = passing_checks.run_id
    cross join considered
    where passing_checks.recency <= {{ var('checks__staging_recent_checks') }}
    group by history.source_table, history.quarantine_reason
),

compared as (
    select
        figures.source_table,
        figures.quarantine_reason,
        figures.staged_rows,
        figures.quarantined_rows,
        figures.total_rows,
        case
            when figures.total_rows > 0 then {{ round_to('figures.quarantined_rows * 1.0 / figures.total_rows', 4) }}
        end as quarantine_share,
        case when figures.quarantine_reason = '(all)' then previous.previous_build_id end as previous_build_id,
        case when figures.quarantine_reason = '(all)' then previous.previous_staged_rows end as previous_staged_rows,
        -- a reason not seen in the recent checks had a share of 0 there (once there are checks)
        case
            when considered.checks > 0 then {{ round_to('coalesce(recent.recent_quarantine_share, 0)', 4) }}
        end as recent_quarantine_share
    from figures
    cross join considered
    left join previous
        on figures.source_table = previous.source_table
    left join recent
        on figures.source_table = recent.source_table and figures.quarantine_reason = recent.quarantine_reason
),

final as (
    select
        source_table,
        quarantine_reason,
        staged_rows,
        quarantined_rows,
        total_rows,
        quarantine_share,
        previous_build_id,
        previous_staged_rows,
        case
            when previous_staged_rows > 0 then {{ round_to('staged_rows * 1.0 / previous_staged_rows', 3) }}
        end as staged_share_of_previous,
        {{ var('checks__staging_min_share_of_previous') }} as min_staged_share_of_previous,
        recent_quarantine_share,
        -- shares are judged on tables with enough rows to tell a change from noise
        case
            when quarantine_reason = '(all)' and total_rows >= {{ min_rows }}
                then {{ var('checks__staging_max_quarantine_share') }}
        end as max_quarantine_share,
        case
            when total_rows >= {{ min_rows }} and recent_quarantine_share is not null
                then greatest(
                        {{ var('checks__staging_share_jump_factor') }} * recent_quarantine_share,
                        recent_quarantine_share + {{ var('checks__staging_share_jump_points') }}
                    )
        end as quarantine_share_limit
    from compared
)

select * from final
