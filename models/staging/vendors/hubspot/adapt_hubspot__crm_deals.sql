{{ config(enabled=adapter_enabled('hubspot', 'crm_deals')) }}

with

deals as (
    {{ vendor_table(source('hubspot', 'deal'), [
        'deal_id', 'deal_pipeline_id', 'deal_pipeline_stage_id', 'property_amount',
        'property_closedate', 'property_createdate', 'property_hs_is_closed',
        'property_hs_is_closed_won', 'is_deleted',
    ]) }}
),

stages as (
    {{ vendor_table(source('hubspot', 'deal_pipeline_stage'), [
        'stage_id', 'pipeline_id', 'label', 'is_closed', 'closed_won', '_fivetran_deleted',
    ]) }}
),

deal_companies as (
    {{ vendor_table(source('hubspot', 'deal_company'), ['deal_id', 'company_id', 'type_id']) }}
),

deal_contacts as (
    {{ vendor_table(source('hubspot', 'deal_contact'), ['deal_id', 'contact_id']) }}
),

live_stages as (
    -- one row per stage id (ids are unique in a portal), a live version before a deleted one
    select
        stage_id,
        label,
        {{ parse_boolean('is_closed') }} as is_closed,
        {{ parse_boolean('closed_won') }} as is_won
    from (
        select
            stages.*,
            row_number() over (
                partition by stages.stage_id
                order by
                    case when {{ parse_boolean('stages._fivetran_deleted') }} then 1 else 0 end,
                    stages.pipeline_id
            ) as stage_rank
        from stages
    ) as ranked
    where stage_rank = 1
),

main_companies as (
    -- the primary company (association type 5), else the first by id
    select
        deal_id,
        company_id
    from (
        select
            {{ vendor_id('deal_id') }} as deal_id,
            {{ vendor_id('company_id') }} as company_id,
            row_number() over (
                partition by {{ vendor_id('deal_id') }}
                order by
                    case when {{ vendor_id('type_id') }} = '5' then 0 else 1 end,
                    {{ vendor_id('company_id') }}
            ) as company_rank
        from deal_companies
        where company_id is not null
    ) as ranked
    where company_rank = 1
),

main_contacts as (
    -- HubSpot marks no main contact of a deal: the first by id
    select
        {{ vendor_id('deal_id') }} as deal_id,
        min({{ vendor_id('contact_id') }}) as contact_id
    from deal_contacts
    group by {{ vendor_id('deal_id') }}
),

numbered as (
    select
        deals.*,
        {{ vendor_id('deal_id') }} as deal_key,
        {{ vendor_row_number(vendor_id('deal_id')) }} as row_number_in_table
    from deals
),

joined as (
    select
        numbered.*,
        live_stages.label as stage_label,
        -- closed and won: the deal's own flags, else its stage's, else the default
        -- pipeline's closed stages
        coalesce(
            {{ parse_boolean('numbered.property_hs_is_closed') }},
            live_stages.is_closed,
            lower(numbered.deal_pipeline_stage_id) in ('closedwon', 'closedlost')
        ) as has_closed,
        coalesce(
            {{ parse_boolean('numbered.property_hs_is_closed_won') }},
            live_stages.is_won,
            lower(numbered.deal_pipeline_stage_id) = 'closedwon'
        ) as has_won,
        main_companies.company_id,
        main_contacts.contact_id
    from numbered
    left join live_stages on numbered.deal_pipeline_stage_id = live_stages.stage_id
    left join main_companies on numbered.deal_key = main_companies.deal_id
    left join main_contacts on numbered.deal_key = main_contacts.deal_id
    where not coalesce({{ parse_boolean('numbered.is_deleted') }}, false)
)

select
    deal_key as deal_id,
    company_id,
    -- the stage's label ('Closed Won'), else its id ('closedwon' in the default pipeline)
    coalesce(stage_label, deal_pipeline_stage_id) as stage,
    property_createdate as created_at,
    contact_id,
    property_amount as amount,
    -- closedate is the expected close date of an open deal: closed_at only once closed
    case when has_closed then property_closedate end as closed_at,
    case
        when has_won then 'true'
        when has_closed then 'false'
    end as is_won,
    _source_file,
    row_number_in_table as _source_row_number,
    _loaded_at
from joined
