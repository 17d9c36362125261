{#- What the lead-routing webhook sends: one row per contact's entry into mql_routed, with the
    owner and the evidence. A notification is sent once and never withdrawn. `crm_reach`:
    an owner follows the lead up through the CRM, so a person the CRM channel is closed to
    (marts.contact_suppressions) is not sent (suppressed), nor one the owner could not find
    (no_address: neither a CRM record nor an email). -#}
with

entries as (
    select * from {{ ref('segment_transitions') }}
    where segment_id = 'mql_routed' and transition = 'entered' and not is_control  -- holdout
),

routing as (
    select * from {{ ref('mql_routing_queue') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

crm_suppressed as (
    select distinct contact_key
    from {{ ref('contact_suppressions') }}
    where channel = 'crm' and is_channel_wide
),

final as (
    select
        -- key: one entry of one contact
        {{ dbt.concat(['entries.contact_key', "'@'", dbt.cast('entries.transitioned_at', dbt.type_string())]) }}
            as record_key,
        'mql_routed' as audience_key,

        -- sent fields
        entries.contact_key,
        contacts.primary_email as email,
        contacts.crm_contact_id,
        coalesce(routing.owner_id, contacts.owner_id, 'unassigned') as owner_id,
        contacts.lead_score,
        coalesce(routing.routing_reason, entries.reason_at_entry) as reason,
        entries.transitioned_at as entered_at,
        case
            when crm_suppressed.contact_key is not null then 'suppressed'
            when contacts.crm_contact_id is null and contacts.primary_email is null then 'no_address'
            else 'reachable'
        end as crm_reach,
        {{ payload_hash(['entries.contact_key', 'entries.transitioned_at']) }} as payload_hash,
        {{ build_id() }} as build_id
    from entries
    inner join contacts on entries.contact_key = contacts.contact_key
    left join routing on entries.contact_key = routing.contact_key
    left join crm_suppressed on entries.contact_key = crm_suppressed.contact_key
)

select * from final
