select
    contact_key,
    'account churned' as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_scores') }}
where is_former_customer
