{{ config(enabled=adapter_enabled('hubspot', 'crm_companies')) }}

with

companies as (
    {{ vendor_table(source('hubspot', 'company'), [
        'id', 'property_name', 'property_domain', 'property_website', 'property_industry',
        'property_numberofemployees', 'property_annualrevenue', 'property_country',
        'property_hs_is_target_account', 'property_hs_lastmodifieddate', 'is_deleted',
    ]) }}
),

numbered as (
    select
        companies.*,
        {{ vendor_row_number(vendor_id('id')) }} as row_number_in_table
    from companies
)

select
    {{ vendor_id('id') }} as company_id,
    property_name as name,
    -- the company domain, else the website's (https://www.acme.com/about is acme.com)
    coalesce(
        {{ domain_from_url('property_domain') }}, {{ domain_from_url('property_website') }}
    ) as domain,
    property_hs_lastmodifieddate as updated_at,
    property_industry as industry,
    property_numberofemployees as employee_count,
    property_annualrevenue as annual_revenue,
    property_country as country,
    property_hs_is_target_account as is_target_account,
    _source_file,
    row_number_in_table as _source_row_number,
    _loaded_at
from numbered
where not coalesce({{ parse_boolean('is_deleted') }}, false)
