{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['contact_key']},
        {'columns': ['segment_id']},
    ] if target.type == 'postgres' else []) }}

{#- One row per contact and segment the contact is in as of as_of, less the segments'
    control groups (is_control in segment_membership, macros/segments/holdout.sql): the
    membership every destination reads, so a control never reaches one. -#}
with

membership as (
    select * from {{ ref('segment_membership') }}
),

final as (
    select
        contact_key,
        segment_id,
        reason,
        qualified_at,
        entered_at,
        as_of,
        build_id
    from membership
    where not is_control
)

select * from final
