select
    contact_key,
    {{ segment_reason("'last visit '", 'cast(last_visit_at as date)') }} as reason,
    last_visit_at as qualified_at
from {{ ref('int_contact_features') }}
where last_visit_at < {{ dbt.dateadd('day', -180, as_of()) }}
