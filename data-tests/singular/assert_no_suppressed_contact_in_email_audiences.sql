-- No unsubscribed, bounced or complaining contact (nor one without an address) is in an
-- email audience.
select
    membership.contact_key,
    membership.segment_id
from {{ ref('segment_membership') }} as membership
inner join {{ ref('segments') }} as segments on membership.segment_id = segments.segment_id
inner join {{ ref('contacts') }} as contacts on membership.contact_key = contacts.contact_key
where segments.channel = 'email' and (contacts.is_email_suppressed or contacts.primary_email is null)
