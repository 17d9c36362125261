{{ config(enabled=adapter_enabled('hubspot', 'crm_contacts')) }}

with

contacts as (
    {{ vendor_table(source('hubspot', 'contact'), [
        'id', 'property_email', 'property_createdate', 'property_lastmodifieddate',
        'property_associatedcompanyid', 'property_company', 'property_hs_email_optout',
        'property_hs_merged_object_ids', 'property_firstname', 'property_lastname',
        'property_jobtitle', 'property_hs_persona', 'property_lifecyclestage',
        'property_hubspot_owner_id', '_fivetran_deleted',
    ]) }}
),

merge_audit as (
    {{ vendor_table(source('hubspot', 'contact_merge_audit'), ['canonical_vid', 'vid_to_merge']) }}
),

numbered as (
    select
        contacts.*,
        {{ vendor_id('id') }} as contact_id,
        {{ vendor_row_number(vendor_id('id')) }} as row_number_in_table
    from contacts
),

-- a survivor lists the contacts merged into it
merged_ids as (
    {{ list_items(
        'numbered', 'contact_id', 'property_hs_merged_object_ids', ';',
        var('hubspot__max_merged_ids', 50),
    ) }}
),

merge_pairs as (
    -- and the legacy merge audit says it too
    select
        {{ vendor_id('list_item') }} as contact_id,
        list_key as survivor_id
    from merged_ids
    union all
    select
        {{ vendor_id('vid_to_merge') }} as contact_id,
        {{ vendor_id('canonical_vid') }} as survivor_id
    from merge_audit
),

survivors as (
    select
        contact_id,
        min(survivor_id) as survivor_id
    from merge_pairs
    where survivor_id is not null and survivor_id <> contact_id
    group by contact_id
),

records as (
    select
        numbered.*,
        survivors.survivor_id as merged_into_contact_id,
        coalesce({{ parse_boolean('numbered._fivetran_deleted') }}, false) as is_deleted
    from numbered
    left join survivors on numbered.contact_id = survivors.contact_id
),

kept as (
    {{ crm_records_kept('records') }}
)

select
    contact_id,
    property_email as email,
    property_createdate as created_at,
    {{ vendor_id('property_associatedcompanyid') }} as company_id,
    property_lastmodifieddate as updated_at,
    property_company as company_name,
    property_hs_email_optout as email_opt_out,
    merged_into_contact_id,
    property_firstname as first_name,
    property_lastname as last_name,
    property_jobtitle as job_title,
    property_hs_persona as persona,
    property_lifecyclestage as lifecycle_stage,
    {{ vendor_id('property_hubspot_owner_id') }} as owner_id,
    cast(null as {{ dbt.type_string() }}) as firmographics_verified_at,
    _source_file,
    row_number_in_table as _source_row_number,
    _loaded_at
from kept
