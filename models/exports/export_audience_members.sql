{#- What the audience syncs send: one row per segment and member, for marketing lists (add /
    remove members) and hashed ad audiences. Every member is a row, with or without an
    address: `email_reach` and `ads_reach` say whether a destination reaching people by that
    channel may send the row (reachable), may not (suppressed: marts.contact_suppressions
    closes the channel to the person) or cannot (no_address: no email to send to). A sync
    sends only the rows its channel reaches (syncs.yml `reaches`), so an unsubscribed member
    of any segment never reaches an email list, and a member who becomes suppressed is
    removed from what the destination holds. The segment's channel still lets a destination
    take only the segments meant for it (syncs.yml `channels`); it decides nothing about
    consent. -#}
with

memberships as (
    select * from {{ ref('segment_membership_treated') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

segments as (
    select * from {{ ref('segments') }}
),

suppressed as (
    -- the channels closed to each contact (a group unsubscribe closes one group only)
    select
        contact_key,
        max(case when channel = 'email' then 1 else 0 end) = 1 as is_email_suppressed,
        max(case when channel = 'ads' then 1 else 0 end) = 1 as is_ads_suppressed
    from {{ ref('contact_suppressions') }}
    where is_channel_wide
    group by contact_key
),

group_unsubscribed as (
    -- the ESP groups each contact left: closed to the segments sent under that group
    -- (segment setting email_group)
    select distinct
        contact_key,
        group_id
    from {{ ref('contact_suppressions') }}
    where channel = 'email' and not is_channel_wide
),

final as (
    select
        -- key: the member of one audience (by the address the destinations know it by; a
        -- member without one, who is never sent, by the contact)
        {{ dbt.concat(['memberships.segment_id', "':'", 'coalesce(contacts.primary_email, contacts.contact_key)']) }}
            as record_key,
        memberships.segment_id as audience_key,

        -- sent fields
        memberships.segment_id,
        segments.channel,
        contacts.primary_email as email,
        contacts.contact_key,

        -- who a destination may send the row to: suppressed before no_address (a closed
        -- channel stays closed when an address turns up)
        case
            when coalesce(suppressed.is_email_suppressed, false) then 'suppressed'
            when group_unsubscribed.contact_key is not null then 'suppressed'
            when contacts.primary_email is null then 'no_address'
            else 'reachable'
        end as email_reach,
        case
            when coalesce(suppressed.is_ads_suppressed, false) then 'suppressed'
            when contacts.primary_email is null then 'no_address'
            else 'reachable'
        end as ads_reach,

        {{ payload_hash(['memberships.segment_id', 'contacts.primary_email']) }} as payload_hash,
        {{ build_id() }} as build_id
    from memberships
    inner join contacts on memberships.contact_key = contacts.contact_key
    inner join segments on memberships.segment_id = segments.segment_id
    left join suppressed on memberships.contact_key = suppressed.contact_key
    left join group_unsubscribed
        on
            memberships.contact_key = group_unsubscribed.contact_key
            and segments.email_group = group_unsubscribed.group_id
)

select * from final
