{#- Memberships grouped by segment and by the contact flags the audience rules depend on, with
    one example contact per group: the membership_validity suite checks the distinct values,
    so the rows need not leave the warehouse. -#}
with

memberships as (
    select * from {{ ref('segment_membership') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

email_suppressed as (
    -- closed to email for any reason (contact_suppressions: channel-wide rows)
    select distinct contact_key
    from {{ ref('contact_suppressions') }}
    where channel = 'email' and is_channel_wide
),

exported as (
    select * from {{ ref('export_audience_members') }}
),

final as (
    select
        memberships.segment_id,
        coalesce(contacts.is_customer, false) as is_customer,
        coalesce(contacts.is_email_suppressed, false) as is_email_suppressed,
        contacts.contact_key is not null as is_known_contact,
        -- the segment again where a rule applies to it, so a value-set check can read it
        case when contacts.is_customer then memberships.segment_id end as customer_segment_id,
        -- membership may hold a suppressed contact (it says who qualifies); the export must
        -- not let an email destination reach them
        case
            when email_suppressed.contact_key is not null and exported.email_reach = 'reachable'
                then memberships.segment_id
        end as reachable_suppressed_segment_id,
        case when contacts.contact_key is null then memberships.segment_id end as unknown_contact_segment_id,
        count(*) as members,
        min(memberships.contact_key) as example_contact_key
    from memberships
    left join contacts on memberships.contact_key = contacts.contact_key
    left join email_suppressed on memberships.contact_key = email_suppressed.contact_key
    left join exported
        on memberships.contact_key = exported.contact_key and memberships.segment_id = exported.segment_id
    group by 1, 2, 3, 4, 5, 6, 7
)

select * from final
