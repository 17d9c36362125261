-- No member of a segment's holdout (control) group reaches a destination as a member of that
-- segment: not in the audience lists and ad audiences (export_audience_members), the
-- sequences (export_sequence_enrollments), the CRM's segment fields (export_crm_contacts:
-- primary segment and segment list), the lead routing (mql_routing_queue and its webhook,
-- export_lead_notifications), nor as a contact's primary segment (contacts). A control stays
-- in segment_membership (is_control) and in its history, for report_segment_lift. The
-- draw is stable, so a control of a segment was one at every spell.
with

controls as (
    select distinct
        contact_key,
        segment_id
    from {{ ref('segment_membership_history') }}
    where is_control
),

sent as (
    select
        'export_audience_members' as destination,
        contact_key,
        segment_id
    from {{ ref('export_audience_members') }}
    union all
    select
        'export_sequence_enrollments' as destination,
        contact_key,
        segment_id
    from {{ ref('export_sequence_enrollments') }}
    union all
    select
        'export_crm_contacts.primary_segment_id' as destination,
        contact_key,
        primary_segment_id as segment_id
    from {{ ref('export_crm_contacts') }}
    union all
    select
        'contacts.primary_segment_id' as destination,
        contact_key,
        primary_segment_id as segment_id
    from {{ ref('contacts') }}
    union all
    select
        'mql_routing_queue' as destination,
        contact_key,
        'mql_routed' as segment_id
    from {{ ref('mql_routing_queue') }}
    union all
    select
        'export_lead_notifications' as destination,
        contact_key,
        'mql_routed' as segment_id
    from {{ ref('export_lead_notifications') }}
),

in_segment_lists as (
    select
        'export_crm_contacts.segment_list' as destination,
        crm.contact_key,
        controls.segment_id
    from {{ ref('export_crm_contacts') }} as crm
    inner join controls
        on
            crm.contact_key = controls.contact_key
            and {{ dbt.concat(["','", 'crm.segment_list', "','"]) }}
            like {{ dbt.concat(["'%,'", 'controls.segment_id', "',%'"]) }}
)

select
    sent.destination,
    sent.contact_key,
    sent.segment_id
from sent
inner join controls
    on sent.contact_key = controls.contact_key and sent.segment_id = controls.segment_id
union all
select * from in_segment_lists
