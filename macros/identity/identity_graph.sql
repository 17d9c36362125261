{# The identity graph both identity models start from, as CTEs: `observed` (valid
   identifiers), `links`, `splits` (split overrides), `nodes` (one row per node),
   `node_links` (links between two nodes that may merge: shared mailboxes join only their
   own CRM records, split identifiers only manual merges), `known_nodes` (nodes that are not
   anonymous, or that a manual merge names) and `known_links` (the links among them). #}
{% macro identity_graph() -%}
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
)
{%- endmacro %}
