{# The vendor adapters: one model per vendor and contract table, under
   models/staging/vendors/<vendor>/, named adapt_<vendor>__<contract table>, that reads the
   vendor's tables in the vendor's own shape (its dbt source, schema and database set by vars
   <vendor>__schema and <vendor>__database) and returns rows of the contract table:
   contract_columns(table) as text plus the lineage columns. An adapter of a source whose tables
   do not exist returns no rows (vendor_table); var <vendor>__enabled: false takes it out of
   the project altogether. Add a new adapter here. #}
{% macro source_adapters(table) -%}
    {%- set adapters = {
        'pages': [
            'adapt_segment__pages',
            'adapt_rudderstack__pages',
            'adapt_snowplow__pages',
            'adapt_ga4__pages',
        ],
        'tracks': [
            'adapt_transactions__tracks',
            'adapt_snowplow__tracks',
            'adapt_ga4__tracks',
            'adapt_segment__tracks',
            'adapt_rudderstack__tracks',
            'adapt_klaviyo__tracks',
        ],
        'identifies': [
            'adapt_segment__identifies',
            'adapt_rudderstack__identifies',
            'adapt_klaviyo__identifies',
        ],
        'email_events': [
            'adapt_sendgrid__email_events',
            'adapt_hubspot__email_events',
            'adapt_marketo__email_events',
            'adapt_mailchimp__email_events',
            'adapt_klaviyo__email_events',
        ],
        'crm_contacts': [
            'adapt_hubspot__crm_contacts',
            'adapt_salesforce__crm_contacts',
            'adapt_marketo__crm_contacts',
        ],
        'crm_companies': ['adapt_hubspot__crm_companies', 'adapt_salesforce__crm_companies'],
        'crm_deals': ['adapt_hubspot__crm_deals', 'adapt_salesforce__crm_deals'],
    } -%}
    {%- set enabled = [] -%}
    {%- for model in adapters.get(table, []) -%}
        {%- if adapter_enabled(model.split('__')[0][6:], table) -%}
            {%- do enabled.append(model) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(enabled) }}
{%- endmacro %}

{# Whether a vendor's adapters are part of the project: var <vendor>__enabled, default true
   (environment variable AUDIENCE_VENDOR_ADAPTERS=off makes the default false: the test suite
   builds contract-only warehouses that way, which saves the adapters' views and tests in
   every build; the tests of the adapters turn them on). The runner passes that variable on as
   var vendor_adapters too: a change of vars makes dbt parse the project again, where a change
   of an environment variable read in a macro would leave a stale partial parse. #}
{% macro adapter_enabled(vendor, table=none) -%}
    {%- set default = var('vendor_adapters', env_var('AUDIENCE_VENDOR_ADAPTERS', 'on')) != 'off' -%}
    {%- set on = [true, 'true', 'True', 1] -%}
    {%- if var(vendor ~ '__enabled', default) not in on -%}
        {{ return(false) }}
    {%- endif -%}
    {#- one contract table of a vendor can be left out on its own (var
        <vendor>__<table>__enabled: false): a HubSpot portal's CRM without its email events -#}
    {{ return(table is none or var(vendor ~ '__' ~ table ~ '__enabled', true) in on) }}
{%- endmacro %}
