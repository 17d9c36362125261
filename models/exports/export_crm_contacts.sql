{#- What the CRM sync sends: one row per contact with a CRM record, with the
    audience fields the CRM shows (lead score, primary segment, every segment, recency,
    routing status). `record_key` is the contact; `payload_hash` changes when a sent field
    does. A segment member without a CRM record is a row too, never sent: `crm_reach` says
    whether the CRM sync may send the row (reachable), may not (suppressed: the CRM channel
    is closed to the person, marts.contact_suppressions) or cannot (no_address: no CRM
    record), so report_destination_reach can count whom the CRM misses. -#}
with

memberships as (
    select * from {{ ref('segment_membership_treated') }}
),

contacts as (
    select * from {{ ref('contacts') }}
    where
        crm_contact_id is not null
        or contact_key in (select contact_key from memberships)
),

crm_suppressed as (
    select distinct contact_key
    from {{ ref('contact_suppressions') }}
    where channel = 'crm' and is_channel_wide
),

routing as (
    select * from {{ ref('mql_routing_queue') }}
),

segment_lists as (
    select
        contact_key,
        {{ dbt.listagg('segment_id', "','", 'order by segment_id') }} as segment_list
    from memberships
    group by contact_key
),

fields as (
    select
        -- key
        contacts.contact_key as record_key,
        'crm' as audience_key,

        -- sent fields
        contacts.contact_key,
        contacts.crm_contact_id,
        contacts.primary_email as email,
        contacts.lead_score,
        contacts.primary_segment_id,
        coalesce(segment_lists.segment_list, '') as segment_list,
        contacts.recency_bucket,
        case when routing.contact_key is not null then 'routed' else 'not_routed' end as routing_status,
        routing.owner_id as routed_to_owner_id,

        -- who the CRM sync may send the row to
        case
            when crm_suppressed.contact_key is not null then 'suppressed'
            when contacts.crm_contact_id is null then 'no_address'
            else 'reachable'
        end as crm_reach
    from contacts
    left join segment_lists on contacts.contact_key = segment_lists.contact_key
    left join routing on contacts.contact_key = routing.contact_key
    left join crm_suppressed on contacts.contact_key = crm_suppressed.contact_key
),

final as (
    select
        *,
        {{ payload_hash([
            'crm_contact_id', 'email', 'lead_score', 'primary_segment_id', 'segment_list',
            'recency_bucket', 'routing_status', 'routed_to_owner_id',
        ]) }} as payload_hash,
        {{ build_id() }} as build_id
    from fields
)

select * from final
