{#- One row per identity node (an identifier in its canonical form) with the contact it
    resolves to, and how. Known identifiers (user ids, emails, CRM ids) are merged through
    their links into connected components; a component larger than the cap is not merged at
    all (over-merging is worse than a missed merge). Anonymous ids never bridge people: each
    joins the person it was first identified as (a shared device keeps its history with its
    first person). Blocked placeholders are dropped; a shared mailbox joins only its own CRM
    records. The components come from int_identity_components. -#}
with

{{ identity_graph() }},

components as (
    select * from {{ ref('int_identity_components') }}
),

known_resolved as (
    select
        node,
        case
            when component_size > {{ var('identity__max_identifiers_per_contact') }} then node
            else component_label
        end as contact_label,
        case
            when component_size > {{ var('identity__max_identifiers_per_contact') }}
                then 'over_cap_not_merged'
            when component_size > 1 then 'merged'
            else 'single'
        end as resolution
    from components
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
        coalesce(components.labels_converged, true) as labels_converged,

        -- timestamps
        nodes.first_seen_at
    from resolved
    inner join nodes on resolved.node = nodes.node
    left join components on resolved.node = components.node
)

select * from final
