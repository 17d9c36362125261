{{ config(enabled=adapter_enabled('salesforce', 'crm_contacts')) }}

with

contacts as (
    {{ vendor_table(source('salesforce', 'contact'), api_name_spellings([
        'id', 'email', 'account_id', 'first_name', 'last_name', 'title', 'owner_id',
        'has_opted_out_of_email', 'master_record_id', 'is_deleted', 'created_date',
        'last_modified_date',
    ])) }}
),

leads as (
    {{ vendor_table(source('salesforce', 'lead'), api_name_spellings([
        'id', 'email', 'company', 'first_name', 'last_name', 'title', 'owner_id',
        'has_opted_out_of_email', 'master_record_id', 'is_deleted', 'is_converted',
        'converted_contact_id', 'converted_account_id', 'created_date', 'last_modified_date',
    ])) }}
),

records as (
    select
        id as contact_id,
        email,
        created_date as created_at,
        account_id as company_id,
        last_modified_date as updated_at,
        cast(null as {{ dbt.type_string() }}) as company_name,
        has_opted_out_of_email as email_opt_out,
        -- a contact merged into another points at its survivor (and is deleted)
        master_record_id as merged_into_contact_id,
        first_name,
        last_name,
        title as job_title,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        owner_id,
        coalesce({{ parse_boolean('is_deleted') }}, false) as is_deleted,
        _source_file,
        {{ vendor_row_number('id') }} as _source_row_number,
        _loaded_at
    from contacts
    union all
    -- a lead is a person before they are a contact: lifecycle stage lead, their company as
    -- text; once converted, the contact it became is its survivor
    select
        id as contact_id,
        email,
        created_date as created_at,
        case when {{ parse_boolean('is_converted') }} then converted_account_id end as company_id,
        last_modified_date as updated_at,
        company as company_name,
        has_opted_out_of_email as email_opt_out,
        coalesce(
            master_record_id,
            case when {{ parse_boolean('is_converted') }} then converted_contact_id end
        ) as merged_into_contact_id,
        first_name,
        last_name,
        title as job_title,
        'lead' as lifecycle_stage,
        owner_id,
        coalesce({{ parse_boolean('is_deleted') }}, false) as is_deleted,
        _source_file,
        {{ vendor_row_number('id') }} as _source_row_number,
        _loaded_at
    from leads
),

kept as (
    {{ crm_records_kept('records') }}
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
    cast(null as {{ dbt.type_string() }}) as persona,
    lifecycle_stage,
    owner_id,
    cast(null as {{ dbt.type_string() }}) as firmographics_verified_at,
    _source_file,
    _source_row_number,
    _loaded_at
from kept
