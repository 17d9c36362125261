{#- What the CRM sync sends: one row per contact with a CRM record, with the
    audience fields the CRM shows (lead score, primary segment, every segment, recency,
    routing status). `record_key` is the contact; `payload_hash` changes when a sent field
    does. -#}
with

contacts as (
    select * from {{ ref('contacts') }}
    where crm_contact_id is not null
),

memberships as (
    select * from {{ ref('segment_membership') }}
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
        routing.owner_id as routed_to_owner_id
    from contacts
    left join segment_lists on contacts.contact_key = segment_lists.contact_key
    left join routing on contacts.contact_key = routing.contact_key
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
