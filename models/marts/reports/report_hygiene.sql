{#- One row per data-hygiene check with how many contacts (or campaigns) it concerns as of
    as_of: inactive for 90 days, merged duplicates, stale firmographics (not verified in 180
    days), contacts in several segments, contacts and campaigns with an open rate under 15 %,
    CRM contacts and identify calls staged without the email they gave because it was not
    well formed, quarantined raw rows; and what the warehouse does about two of them:
    contacts fatigued by email (ignored the last var email__fatigue_ignored_sends sends),
    suppressed from every email destination, and the re-verification tasks the crm_tasks
    sync creates for the owners of stale CRM records. `action_taken` says what is done (null:
    reported only). -#}
with

contacts as (
    select * from {{ ref('contacts') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

features as (
    select * from {{ ref('int_contact_features') }}
),

membership as (
    select
        contact_key,
        count(*) as segments
    from {{ ref('segment_membership') }}
    group by contact_key
),

campaigns as (
    select * from {{ ref('report_campaign_open_rates') }}
),

suppressions as (
    select * from {{ ref('contact_suppressions') }}
),

crm_tasks as (
    select * from {{ ref('export_crm_tasks') }}
),

checks as (
    select
        'inactive_90_days' as hygiene_check,
        'contacts' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(
            case
                when contacts.is_identified and contacts.recency_bucket in ('lapsed', 'dormant', 'never') then 1
                else 0
            end
        ) as affected
    from contacts
    union all
    select
        'merged_duplicates' as hygiene_check,
        'contacts' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(case when email_count > 1 or crm_contact_count > 1 then 1 else 0 end) as affected
    from contacts
    union all
    select
        'stale_firmographics' as hygiene_check,
        'contacts' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(
            case
                when crm_contact_id is not null
                    and (
                        firmographics_verified_at is null
                        or firmographics_verified_at < {{ dbt.dateadd('day', -180, as_of()) }}
                    )
                    then 1
                else 0
            end
        ) as affected
    from profiles
    union all
    select
        'in_several_segments' as hygiene_check,
        'contacts' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(case when segments > 1 then 1 else 0 end) as affected
    from membership
    union all
    select
        'low_open_rate' as hygiene_check,
        'contacts' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(
            case
                when email_deliveries >= {{ var('email__recent_deliveries') }}
                    and email_opened_deliveries * 1.0 / email_deliveries < {{ var('email__low_open_rate') }}
                    then 1
                else 0
            end
        ) as affected
    from features
    union all
    select
        'low_open_rate' as hygiene_check,
        'campaigns' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        sum(case when is_low_open_rate then 1 else 0 end) as affected
    from campaigns
    union all
    select
        'invalid_email' as hygiene_check,
        'staged rows' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        count(*) as affected
    from (
        select crm_contact_id as record_id from {{ ref('stg_crm__contacts') }}
        where has_rejected_email
        union all
        select identify_id as record_id from {{ ref('stg_segment__identifies') }}
        where has_rejected_email
    ) as rejected
    union all
    select
        'quarantined_rows' as hygiene_check,
        'raw rows' as subject,
        cast(null as {{ dbt.type_string() }}) as action_taken,
        count(*) as affected
    from {{ ref('quarantine') }}
    union all
    select
        'email_fatigue' as hygiene_check,
        'contacts' as subject,
        'suppressed from email destinations' as action_taken,
        count(distinct contact_key) as affected
    from suppressions
    where channel = 'email' and reason = 'fatigued'
    union all
    select
        'stale_firmographics' as hygiene_check,
        'CRM tasks' as subject,
        'task sent to the record owner' as action_taken,
        sum(case when crm_reach = 'reachable' then 1 else 0 end) as affected
    from crm_tasks
),

final as (
    select
        hygiene_check,
        subject,
        action_taken,
        coalesce(affected, 0) as affected,
        {{ as_of() }} as as_of
    from checks
)

select * from final
