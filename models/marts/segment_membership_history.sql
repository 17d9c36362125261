{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['contact_key', 'segment_id']},
        {'columns': ['segment_id', 'valid_from']},
    ] if target.type == 'postgres' else []) }}

{#- One row per contact, segment and spell of membership, from the membership snapshot:
    valid from the as_of of the build that first had the contact in the segment, to the
    as_of of the first build that no longer had them (null while current). -#}
with

snapshot as (
    select * from {{ ref('segment_membership_snapshot') }}
),

final as (
    select
        -- grain
        {{ dbt.hash(dbt.concat([
            'contact_key', "'|'", 'segment_id', "'|'", dbt.cast('dbt_valid_from', dbt.type_string()),
        ])) }} as membership_spell_id,
        contact_key,
        segment_id,

        -- why
        reason as reason_at_entry,
        qualified_at as qualified_at_entry,

        -- the segment's control group, as it was when the spell began (the snapshot keeps
        -- segment_membership.is_control of the build that recorded the entry): a share
        -- changed later does not move past spells between the groups. A spell recorded
        -- before the snapshot kept the flag is drawn from segment and contact.
        coalesce(is_control, {{ holdout_is_control('segment_id', 'contact_key') }}) as is_control,

        -- validity
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        dbt_valid_to is null as is_current
    from snapshot
)

select * from final
