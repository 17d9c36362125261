{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['transitioned_at']},
        {'columns': ['segment_id']},
    ] if target.type == 'postgres' else []) }}

{#- One row per contact entering or leaving a segment, at the as_of of the build where it
    happened: the events that drive realtime syncs and campaign triggers. -#}
with

history as (
    select * from {{ ref('segment_membership_history') }}
),

entries as (
    select
        contact_key,
        segment_id,
        'entered' as transition,
        valid_from as transitioned_at,
        reason_at_entry,
        is_control
    from history
),

exits as (
    select
        contact_key,
        segment_id,
        'exited' as transition,
        valid_to as transitioned_at,
        reason_at_entry,
        is_control
    from history
    where valid_to is not null
),

unioned as (
    select * from entries
    union all
    select * from exits
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'contact_key', "'|'", 'segment_id', "'|'", 'transition', "'|'",
            dbt.cast('transitioned_at', dbt.type_string()),
        ])) }} as transition_id,
        contact_key,
        segment_id,
        transition,
        transitioned_at,
        reason_at_entry,
        is_control
    from unioned
)

select * from final
