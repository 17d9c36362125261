select
    contact_key,
    {{ segment_reason("'opened none of the last '", 'recent_email_deliveries', "' emails delivered'") }} as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_features') }}
where
    recent_email_deliveries >= {{ var('email__recent_deliveries') }}
    and recent_email_opened_deliveries = 0
