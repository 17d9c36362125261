{#- Every link between two identifiers and what resolution did with it: joined two
    identifiers into one contact, or was refused (a blocked or shared identifier, a split
    override, a contact over the identifier cap, a shared device). -#}
with

links as (
    select * from {{ ref('int_identity_links_collected') }}
),

observed as (
    select * from {{ ref('int_identifiers_observed') }}
),

resolved as (
    select * from {{ ref('int_identity_nodes_resolved') }}
),

forgotten as (
    -- people who asked to be forgotten: their links are no one's business any more
    select * from {{ ref('int_forgotten_contacts') }}
),

joined as (
    select
        links.*,
        observed_a.block_kind as block_kind_a,
        observed_b.block_kind as block_kind_b,
        resolved_a.contact_key as contact_key_a,
        resolved_b.contact_key as contact_key_b,
        resolved_a.resolution as resolution_a,
        resolved_b.resolution as resolution_b
    from links
    left join observed as observed_a
        on links.identifier_type_a = observed_a.identifier_type
            and links.identifier_a = observed_a.identifier
    left join observed as observed_b
        on links.identifier_type_b = observed_b.identifier_type
            and links.identifier_b = observed_b.identifier
    left join resolved as resolved_a on observed_a.node = resolved_a.node
    left join resolved as resolved_b on observed_b.node = resolved_b.node
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat([
            'link_rule', "'|'", 'identifier_type_a', "':'", 'identifier_a', "'|'",
            'identifier_type_b', "':'", 'identifier_b',
        ])) }} as link_id,
        case when contact_key_a = contact_key_b then contact_key_a end as contact_key,
        identifier_type_a,
        identifier_a,
        identifier_type_b,
        identifier_b,

        -- outcome
        link_rule,
        case
            when contact_key_a = contact_key_b then 'merged'
            when block_kind_a = 'invalid' or block_kind_b = 'invalid' then 'refused_invalid_identifier'
            when contact_key_a is null or contact_key_b is null then 'refused_unknown_identifier'
            when block_kind_a = 'shared' or block_kind_b = 'shared' then 'refused_shared_identifier'
            when resolution_a = 'over_cap_not_merged' or resolution_b = 'over_cap_not_merged'
                then 'refused_over_identifier_cap'
            when resolution_a = 'shared_device_first_person' or resolution_b = 'shared_device_first_person'
                then 'refused_shared_device'
            else 'refused_split_override'
        end as link_outcome,
        contact_key_a,
        contact_key_b,

        -- measures
        evidence_count,

        -- timestamps
        first_seen_at
    from joined
    where
        (contact_key_a is null or contact_key_a not in (select contact_key from forgotten))
        and (contact_key_b is null or contact_key_b not in (select contact_key from forgotten))
)

select * from final
