-- Label propagation reached every node of each identity component; if not, raise
-- var identity__max_iterations.
select node
from {{ ref('int_identity_nodes_resolved') }}
where not labels_converged
