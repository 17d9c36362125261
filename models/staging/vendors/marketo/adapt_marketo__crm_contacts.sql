{{ config(enabled=adapter_enabled('marketo', 'crm_contacts')) }}

with

leads as (
    {{ vendor_table(source('marketo', 'lead'), [
        'id', 'email', 'created_at', 'updated_at', 'first_name', 'last_name', 'title', 'company',
        'unsubscribed',
    ]) }}
),

merge_activities as (
    {{ vendor_table(source('marketo', 'activity_merge_leads'), ['id', 'lead_id', 'activity_date', 'merge_ids']) }}
),

-- the leads deleted from Marketo
deletions as (
    select distinct lead_id
    from ({{ vendor_table(source('marketo', 'activity_delete_lead'), ['lead_id']) }}) as deleted_leads
    where lead_id is not null
),

positions as (
    {{ json_array_positions() }}
),

-- each lead a merge took into the lead it kept (lead_id), the latest merge of it first
merged_leads as (
    select
        {{ json_array_element_text('merge_activities.merge_ids', 'positions.slot') }} as merged_lead_id,
        merge_activities.lead_id as kept_lead_id,
        row_number() over (
            partition by {{ json_array_element_text('merge_activities.merge_ids', 'positions.slot') }}
            order by merge_activities.activity_date desc, merge_activities.id desc
        ) as merge_number
    from merge_activities
    inner join positions
        on positions.slot < {{ json_array_length_text('merge_activities.merge_ids') }}
),

final as (
    select
        -- lead ids are Marketo's own numbers: prefixed, so no CRM's id can meet them
        {{ dbt.concat(["'marketo:'", 'leads.id']) }} as contact_id,
        leads.email,
        leads.created_at,
        cast(null as {{ dbt.type_string() }}) as company_id,
        leads.updated_at,
        leads.company as company_name,
        leads.unsubscribed as email_opt_out,
        case
            when merged_leads.kept_lead_id is not null
                then {{ dbt.concat(["'marketo:'", 'merged_leads.kept_lead_id']) }}
        end as merged_into_contact_id,
        leads.first_name,
        leads.last_name,
        leads.title as job_title,
        cast(null as {{ dbt.type_string() }}) as persona,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        cast(null as {{ dbt.type_string() }}) as firmographics_verified_at,
        leads._source_file,
        leads._source_row_number,
        leads._loaded_at
    from leads
    left join merged_leads
        on
            leads.id = merged_leads.merged_lead_id
            and merged_leads.merge_number = 1
    left join deletions
        on leads.id = deletions.lead_id
    -- a lead deleted from Marketo is no contact; one deleted by a merge is, merged
    where
        merged_leads.kept_lead_id is not null
        or deletions.lead_id is null
)

select
    contact_id,
    email,
    created_at,
    company_id,
    updated_at,
    company_name,
    email_opt_out,
    merged_into_contact_id,
    first_name,
    last_name,
    job_title,
    persona,
    lifecycle_stage,
    owner_id,
    firmographics_verified_at,
    _source_file,
    {{ vendor_row_number('contact_id') }} as _source_row_number,
    _loaded_at
from final
