{{ config(enabled=adapter_enabled('salesforce', 'crm_companies')) }}

with

accounts as (
    {{ vendor_table(source('salesforce', 'account'), api_name_spellings([
        'id', 'name', 'website', 'industry', 'number_of_employees', 'annual_revenue',
        'billing_country_code', 'billing_country', 'is_deleted', 'last_modified_date',
    ])) }}
),

numbered as (
    select
        accounts.*,
        {{ vendor_row_number('id') }} as row_number_in_table
    from accounts
)

select
    id as company_id,
    name,
    -- an account has a website, not a domain: https://www.acme.com/about is acme.com
    {{ domain_from_url('website') }} as domain,
    last_modified_date as updated_at,
    industry,
    number_of_employees as employee_count,
    annual_revenue,
    coalesce(billing_country_code, billing_country) as country,
    -- Salesforce has no standard target-account field
    cast(null as {{ dbt.type_string() }}) as is_target_account,
    _source_file,
    row_number_in_table as _source_row_number,
    _loaded_at
from numbered
-- a deleted account (merged ones too: their contacts and opportunities move to the survivor)
where not coalesce({{ parse_boolean('is_deleted') }}, false)
