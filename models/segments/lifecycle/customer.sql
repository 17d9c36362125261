select
    contact_key,
    'customer: active contract, won deal or order' as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_scores') }}
where is_customer
