-- No export row a destination may send (<channel>_reach = 'reachable') belongs to a contact
-- suppressed for that channel (contact_suppressions: unsubscribed, bounced, complaining,
-- opted out, entered by hand, forgotten) or lacks the identifier the channel needs. Membership
-- may hold them (it says who qualifies); the destinations must not reach them. A member who
-- left the ESP group a segment is sent under (segment setting email_group) is not reachable
-- by email in that segment.
with

suppressed as (
    select distinct
        contact_key,
        channel
    from {{ ref('contact_suppressions') }}
    where is_channel_wide
),

group_unsubscribed as (
    select distinct
        members.contact_key,
        'email' as channel
    from {{ ref('export_audience_members') }} as members
    inner join {{ ref('segments') }} as segments on members.segment_id = segments.segment_id
    inner join {{ ref('contact_suppressions') }} as suppressions
        on
            members.contact_key = suppressions.contact_key
            and suppressions.channel = 'email'
            and suppressions.group_id = segments.email_group
    where members.email_reach = 'reachable'
),

reachable as (
    select
        'export_audience_members' as export_model,
        'email' as channel,
        contact_key,
        email is null as lacks_address
    from {{ ref('export_audience_members') }}
    where email_reach = 'reachable'
    union all
    select
        'export_audience_members' as export_model,
        'ads' as channel,
        contact_key,
        email is null as lacks_address
    from {{ ref('export_audience_members') }}
    where ads_reach = 'reachable'
    union all
    select
        'export_crm_contacts' as export_model,
        'crm' as channel,
        contact_key,
        crm_contact_id is null as lacks_address
    from {{ ref('export_crm_contacts') }}
    where crm_reach = 'reachable'
    union all
    select
        'export_lead_notifications' as export_model,
        'crm' as channel,
        contact_key,
        crm_contact_id is null and email is null as lacks_address
    from {{ ref('export_lead_notifications') }}
    where crm_reach = 'reachable'
)

select
    reachable.export_model,
    reachable.channel,
    reachable.contact_key,
    reachable.lacks_address
from reachable
left join suppressed
    on reachable.contact_key = suppressed.contact_key and reachable.channel = suppressed.channel
where suppressed.contact_key is not null or reachable.lacks_address
union all
select
    'export_audience_members' as export_model,
    'email' as channel,
    contact_key,
    false as lacks_address
from group_unsubscribed
