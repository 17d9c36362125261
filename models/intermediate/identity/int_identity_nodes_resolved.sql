{#- One row per identity node (an identifier in its canonical form) with the contact it
    resolves to, and how. Known identifiers (user ids, emails, CRM ids) are merged through
    their links into connected components; a component larger than the cap is not merged at
    all (over-merging is worse than a missed merge). Anonymous ids never bridge people: each
    joins the person it was first identified as (a shared device keeps its history with its
    first person). Blocked placeholders are dropped; a shared mailbox joins only its own CRM records. -#}
with

observed as (
    select * from {{ ref('int_identifiers_observed') }}
    where block_kind is null or block_kind <> 'invalid'
),

links as (
    select * from {{ ref('int_identity_links_collected') }}
),

splits as (
    select * from {{ ref('identity_overrides') }}
    where override_action = 'split'
),

nodes as (
    select
        observed.node,
        min(observed.identifier_type) as identifier_type,
        max(case when observed.block_kind = 'shared' then 1 else 0 end) = 1 as is_shared,
        max(case when splits.identifier is not null then 1 else 0 end) = 1 as is_split,
        min(observed.first_seen_at) as first_seen_at
    from observed
    left join splits
        on observed.identifier_type = splits.identifier_type
            and observed.identifier = splits.identifier
    group by observed.node
),

node_links as (
    -- links between the nodes of their two identifiers
    select
        node_a.node as node_a,
        node_b.node as node_b,
        links.link_rule,
        links.first_seen_at
    from links
    inner join observed as identifier_a
        on links.identifier_type_a = identifier_a.identifier_type
            and links.identifier_a = identifier_a.identifier
    inner join observed as identifier_b
        on links.identifier_type_b = identifier_b.identifier_type
            and links.identifier_b = identifier_b.identifier
    inner join nodes as node_a on identifier_a.node = node_a.node
    inner join nodes as node_b on identifier_b.node = node_b.node
    where
        node_a.node <> node_b.node
        and (
            links.link_rule = 'manual_merge'
            -- a CRM record of a shared mailbox is that mailbox; only people are kept apart
            or (links.link_rule = 'crm_record' and not (node_a.is_split or node_b.is_split))
            or not (node_a.is_shared or node_b.is_shared or node_a.is_split or node_b.is_split)
        )
),

known_nodes as (
    select node from nodes
    where identifier_type <> 'anonymous_id'
    union
    select node_a from node_links
    where link_rule = 'manual_merge'
    union
    select node_b from node_links
    where link_rule = 'manual_merge'
),

known_links as (
    select
        node_a,
        node_b
    from node_links
    where
        link_rule = 'manual_merge'
        or (
            node_a in (select node from known_nodes)
            and node_b in (select node from known_nodes)
        )
),

{{ connected_components('known_nodes', 'known_links', var('identity__max_iterations'), 'component') }},

unconverged_nodes as (
    -- nodes whose label still differs from a neighbour's: more iterations are needed
    select known_links.node_a as node
    from known_links
    inner join component_final as label_a on known_links.node_a = label_a.node
    inner join component_final as label_b on known_links.node_b = label_b.node
    where label_a.label <> label_b.label
),

component_sizes as (
    select
        label,
        count(*) as component_size
    from component_final
    group by label
),

known_resolved as (
    select
        component_final.node,
        case
            when component_sizes.component_size > {{ var('identity__max_identifiers_per_contact') }}
                then component_final.node
            else component_final.label
        end as contact_label,
        case
            when component_sizes.component_size > {{ var('identity__max_identifiers_per_contact') }}
                then 'over_cap_not_merged'
            when component_sizes.component_size > 1 then 'merged'
            else 'single'
        end as resolution
    from component_final
    inner join component_sizes on component_final.label = component_sizes.label
),

anonymous_links as (
    -- every known person an anonymous id was linked to, and when first
    select
        candidate_links.anonymous_node,
        known_resolved.contact_label,
        min(candidate_links.first_seen_at) as first_seen_at
    from (
        select
            node_a as anonymous_node,
            node_b as known_node,
            first_seen_at
        from node_links
        union all
        select
            node_b as anonymous_node,
            node_a as known_node,
            first_seen_at
        from node_links
    ) as candidate_links
    inner join known_resolved on candidate_links.known_node = known_resolved.node
    where candidate_links.anonymous_node not in (select node from known_nodes)
    group by candidate_links.anonymous_node, known_resolved.contact_label
),

anonymous_candidates as (
    -- the first identification wins
    select
        anonymous_node,
        contact_label,
        row_number() over (
            partition by anonymous_node
            order by first_seen_at, contact_label
        ) as candidate_rank,
        count(*) over (partition by anonymous_node) as people_linked
    from anonymous_links
),

anonymous_resolved as (
    select
        nodes.node,
        coalesce(anonymous_candidates.contact_label, nodes.node) as contact_label,
        case
            when anonymous_candidates.people_linked > 1 then 'shared_device_first_person'
            when anonymous_candidates.contact_label is not null then 'merged'
            else 'single'
        end as resolution
    from nodes
    left join anonymous_candidates
        on nodes.node = anonymous_candidates.anonymous_node
            and anonymous_candidates.candidate_rank = 1
    where nodes.node not in (select node from known_nodes)
),

resolved as (
    select * from known_resolved
    union all
    select * from anonymous_resolved
),

final as (
    select
        -- ids
        {{ dbt.hash('resolved.contact_label') }} as contact_key,
        resolved.node,
        nodes.identifier_type,

        -- resolution
        resolved.contact_label,
        resolved.resolution,
        nodes.is_shared,
        resolved.node not in (select node from unconverged_nodes) as labels_converged,

        -- timestamps
        nodes.first_seen_at
    from resolved
    inner join nodes on resolved.node = nodes.node
)

select * from final
