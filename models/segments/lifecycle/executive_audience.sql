{#- Decision makers as the CRM records them: the CRM field flows back into the audiences. -#}
select
    contact_key,
    {{ segment_reason("'CRM persona decision maker'", "coalesce(' (' || job_title || ')', '')") }} as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_profiles') }}
where persona = 'decision_maker'
