{# Connected components of an undirected graph by iterative minimum-label propagation.
   `nodes` has a column `node`; `edges` has `node_a`, `node_b` (one direction is enough).
   Renders a sequence of CTEs ending in `<prefix>_final` (node, label), where label is the
   smallest node of the component. Plain joins and aggregates only, so it runs on every
   engine (no recursive CTE); identity graphs have a small diameter, and the
   assert_identity_components_converged test fails if `iterations` was too few. #}
{% macro connected_components(nodes, edges, iterations, prefix='cc') -%}
{{ prefix }}_edges as (
    select node_a as node_from, node_b as node_to from {{ edges }}
    union all
    select node_b as node_from, node_a as node_to from {{ edges }}
),

{{ prefix }}_0 as (
    select node, node as label from {{ nodes }}
),
{% for i in range(1, iterations + 1) %}
{{ prefix }}_{{ i }} as (
    select
        candidates.node,
        min(candidates.label) as label
    from (
        select node, label from {{ prefix }}_{{ i - 1 }}
        union all
        select
            {{ prefix }}_edges.node_to as node,
            {{ prefix }}_{{ i - 1 }}.label
        from {{ prefix }}_edges
        inner join {{ prefix }}_{{ i - 1 }}
            on {{ prefix }}_edges.node_from = {{ prefix }}_{{ i - 1 }}.node
    ) as candidates
    group by candidates.node
),
{% endfor %}
{{ prefix }}_final as (
    select node, label from {{ prefix }}_{{ iterations }}
)
{%- endmacro %}
