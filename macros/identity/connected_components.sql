{# Connected components of an undirected graph by iterative minimum-label propagation.
   `nodes` has a column `node`; `edges` has `node_a`, `node_b` (one direction is enough).
   Renders a sequence of CTEs ending in `<prefix>_final` (node, label, labels_converged),
   where label is the smallest node of the component and labels_converged is false when a
   neighbour still holds another label (more iterations were needed). Plain joins and
   aggregates only, so it runs on every engine (no recursive CTE); identity graphs have a
   small diameter, and the assert_identity_components_converged test fails if `iterations`
   was too few. #}
{% macro connected_components(nodes, edges, iterations, prefix='cc') -%}
{{ prefix }}_edges as (
    -- both directions, and each node to itself: a node's next label is the smallest of its
    -- own and its neighbours' (one reference to the step before, so engines that inline
    -- CTEs, like Spark, see a plan that grows with the iterations, not doubles)
    select node_a as node_from, node_b as node_to from {{ edges }}
    union all
    select node_b as node_from, node_a as node_to from {{ edges }}
    union all
    select node as node_from, node as node_to from {{ nodes }}
),

{{ prefix }}_0 as (
    select node, node as label from {{ nodes }}
),
{% for i in range(1, iterations + 1) %}
{{ prefix }}_{{ i }} as (
    select
        {{ prefix }}_edges.node_from as node,
        min({{ prefix }}_{{ i - 1 }}.label) as label
    from {{ prefix }}_edges
    inner join {{ prefix }}_{{ i - 1 }}
        on {{ prefix }}_edges.node_to = {{ prefix }}_{{ i - 1 }}.node
    group by {{ prefix }}_edges.node_from
),
{% endfor %}
{{ prefix }}_final as (
    -- one more pass: a node has converged when its neighbours all hold its label
    select
        {{ prefix }}_edges.node_from as node,
        min(
            case when {{ prefix }}_edges.node_to = {{ prefix }}_edges.node_from
                then {{ prefix }}_{{ iterations }}.label end
        ) as label,
        min({{ prefix }}_{{ iterations }}.label) = max({{ prefix }}_{{ iterations }}.label)
            as labels_converged
    from {{ prefix }}_edges
    inner join {{ prefix }}_{{ iterations }}
        on {{ prefix }}_edges.node_to = {{ prefix }}_{{ iterations }}.node
    group by {{ prefix }}_edges.node_from
)
{%- endmacro %}
