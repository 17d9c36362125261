{#- One row per contact who opted out of email on any of their CRM records (merged ones too),
    as known by as_of: the CRM's consent flag. A record created after as_of does not count
    yet. Read by int_contact_features (the reason on the contact) and contact_suppressions
    (one suppression of the email channel). -#}
with

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where email_opt_out and {{ known_by_as_of('created_at') }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
    where identifier_type = 'crm_contact_id'
),

final as (
    select
        -- ids
        identity_map.contact_key,

        -- the opt-out: how many records carry it, and the oldest record's last update (the
        -- CRM keeps no time of the flag itself)
        count(*) as opted_out_records,
        min(crm_contacts.updated_at) as opted_out_since
    from crm_contacts
    inner join identity_map on crm_contacts.crm_contact_id = identity_map.identifier
    group by identity_map.contact_key
)

select * from final
