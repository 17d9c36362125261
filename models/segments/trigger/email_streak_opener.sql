select
    contact_key,
    {{ segment_reason("'opened the last '", 'consecutive_email_opens', "' emails in a row'") }} as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_features') }}
where consecutive_email_opens >= 3
