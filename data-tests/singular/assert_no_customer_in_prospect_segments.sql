-- Goal completion: no customer is in a segment meant for prospects or non-customers.
select
    membership.contact_key,
    membership.segment_id
from {{ ref('segment_membership') }} as membership
inner join {{ ref('segments') }} as segments on membership.segment_id = segments.segment_id
inner join {{ ref('contacts') }} as contacts on membership.contact_key = contacts.contact_key
where segments.audience in ('prospects', 'non_customers') and contacts.is_customer
