select
    contact_key,
    {{ segment_reason("'last active '", dbt.datediff('last_activity_at', as_of(), 'day'), "' days ago'") }} as reason,
    last_activity_at as qualified_at
from {{ ref('int_contact_scores') }}
where
    last_activity_at < {{ dbt.dateadd('day', -60, as_of()) }}
    and last_activity_at >= {{ dbt.dateadd('day', -90, as_of()) }}
