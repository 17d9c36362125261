{#- One row per known identity node (not anonymous) with the connected component of the
    identity graph it belongs to: the component's smallest node, its size and whether label
    propagation reached every node. A table of its own, so engines that inline CTEs (Spark)
    run the propagation once. -#}
with

{{ identity_graph() }},

{{ connected_components('known_nodes', 'known_links', var('identity__max_iterations'), 'component') }},

final as (
    select
        node,
        label as component_label,
        count(*) over (partition by label) as component_size,
        labels_converged
    from component_final
)

select * from final
