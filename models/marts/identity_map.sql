{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['identifier_type', 'identifier'], 'unique': true},
        {'columns': ['contact_key']},
    ] if target.type == 'postgres' else []) }}

with

observed as (
    select * from {{ ref('int_identifiers_observed') }}
    where block_kind is null or block_kind <> 'invalid'
),

resolved as (
    -- a person who asked to be forgotten (int_forgotten_contacts) is left out, every
    -- identifier of theirs: nothing downstream of the map knows them
    select * from {{ ref('int_identity_nodes_resolved') }}
    where contact_key not in (select contact_key from {{ ref('int_forgotten_contacts') }})
),

final as (
    select
        -- ids
        observed.identifier_type,
        observed.identifier,
        resolved.contact_key,

        -- resolution
        observed.node_value as canonical_identifier,
        resolved.resolution,
        coalesce(observed.block_kind = 'shared', false) as is_shared_identifier,

        -- timestamps
        observed.first_seen_at,
        observed.last_seen_at
    from observed
    inner join resolved on observed.node = resolved.node
)

select * from final
