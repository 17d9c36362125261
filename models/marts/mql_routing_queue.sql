{#- The lead-routing queue: one row per contact in mql_routed, with the owner who gets the
    lead and the evidence that crossed the threshold. The CRM sync and the routing
    notification read it. -#}
with

routed as (
    select * from {{ ref('segment_membership_treated') }}
    where segment_id = 'mql_routed'
),

contacts as (
    select * from {{ ref('contacts') }}
),

features as (
    select * from {{ ref('int_contact_features') }}
),

final as (
    select
        -- ids
        routed.contact_key,
        contacts.primary_email,
        contacts.crm_contact_id,
        contacts.company_id,
        coalesce(contacts.owner_id, 'unassigned') as owner_id,

        -- evidence
        routed.reason as routing_reason,
        contacts.lead_score,
        contacts.fit_score,
        contacts.intent_score,
        features.pricing_views_7d,
        features.decision_page_views_14d,
        features.consecutive_email_opens,

        -- timestamps
        routed.qualified_at,
        routed.as_of
    from routed
    inner join contacts on routed.contact_key = contacts.contact_key
    inner join features on routed.contact_key = features.contact_key
)

select * from final
