{#- What the CRM task sync sends: one re-verification task per CRM record whose
    firmographics were not verified within var crm__stale_firmographics_days (180) days of
    as_of (or never), for the record's owner. Merged-away records get none (their survivor
    does). `record_key` is the task, one per record and task type, so the sync creates each
    task once, and closes it when the record leaves the export (verified, merged, forgotten).
    crm_reach is suppressed when the CRM channel is closed to the person
    (marts.contact_suppressions). -#}
with

crm_records as (
    select * from {{ ref('stg_crm__contacts') }}
    where merged_into_contact_id is null
),

identity_map as (
    select * from {{ ref('identity_map') }}
    where identifier_type = 'crm_contact_id'
),

crm_suppressed as (
    select distinct contact_key
    from {{ ref('contact_suppressions') }}
    where channel = 'crm' and is_channel_wide
),

stale as (
    select
        identity_map.contact_key,
        crm_records.crm_contact_id,
        crm_records.owner_id,
        crm_records.firmographics_verified_at
    from crm_records
    inner join identity_map on crm_records.crm_contact_id = identity_map.identifier
    where
        crm_records.firmographics_verified_at is null
        or crm_records.firmographics_verified_at
        < {{ dbt.dateadd('day', -1 * var('crm__stale_firmographics_days'), as_of()) }}
),

fields as (
    select
        -- key
        {{ dbt.concat(["'reverify_firmographics|'", 'stale.crm_contact_id']) }} as record_key,
        'crm_tasks' as audience_key,

        -- sent fields
        {{ dbt.concat(["'reverify_firmographics|'", 'stale.crm_contact_id']) }} as task_id,
        stale.contact_key,
        stale.crm_contact_id,
        stale.owner_id,
        'reverify_firmographics' as task_type,
        case
            when stale.firmographics_verified_at is null
                then 'Re-verify company and role: never verified'
            else {{ dbt.concat([
                "'Re-verify company and role: last verified '",
                dbt.cast(dbt.cast('stale.firmographics_verified_at', 'date'), dbt.type_string()),
            ]) }}
        end as subject,
        stale.firmographics_verified_at,

        -- whom the CRM sync may send the task for
        case when crm_suppressed.contact_key is not null then 'suppressed' else 'reachable' end as crm_reach
    from stale
    left join crm_suppressed on stale.contact_key = crm_suppressed.contact_key
),

final as (
    select
        *,
        {{ payload_hash(['task_id', 'crm_contact_id', 'owner_id', 'task_type', 'subject']) }} as payload_hash,
        {{ build_id() }} as build_id
    from fields
)

select * from final
