{#- What the audience syncs send: one row per segment and member email, for marketing lists
    (add / remove members) and hashed ad audiences. The segment's channel lets a destination
    take only the segments meant for it. Suppressed contacts are already out of email
    segments (segment_membership). -#}
with

memberships as (
    select * from {{ ref('segment_membership') }}
),

contacts as (
    select * from {{ ref('contacts') }}
    where primary_email is not null
),

segments as (
    select * from {{ ref('segments') }}
),

final as (
    select
        -- key: the member of one audience
        {{ dbt.concat(['memberships.segment_id', "':'", 'contacts.primary_email']) }} as record_key,
        memberships.segment_id as audience_key,

        -- sent fields
        memberships.segment_id,
        segments.channel,
        contacts.primary_email as email,
        contacts.contact_key,
        {{ payload_hash(['memberships.segment_id', 'contacts.primary_email']) }} as payload_hash,
        {{ build_id() }} as build_id
    from memberships
    inner join contacts on memberships.contact_key = contacts.contact_key
    inner join segments on memberships.segment_id = segments.segment_id
)

select * from final
