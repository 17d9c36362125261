{{ config(enabled=adapter_enabled('salesforce', 'crm_deals')) }}

with

opportunities as (
    {{ vendor_table(source('salesforce', 'opportunity'), api_name_spellings([
        'id', 'account_id', 'contact_id', 'stage_name', 'amount', 'close_date', 'created_date',
        'is_closed', 'is_won', 'is_deleted',
    ])) }}
),

contact_roles as (
    {{ vendor_table(source('salesforce', 'opportunity_contact_role'), api_name_spellings([
        'opportunity_id', 'contact_id', 'is_primary', 'is_deleted',
    ])) }}
),

main_contacts as (
    -- the primary contact role of an opportunity, else its first contact by id
    select
        opportunity_id,
        contact_id
    from (
        select
            opportunity_id,
            contact_id,
            row_number() over (
                partition by opportunity_id
                order by
                    case when {{ parse_boolean('is_primary') }} then 0 else 1 end,
                    contact_id
            ) as role_rank
        from contact_roles
        where
            not coalesce({{ parse_boolean('is_deleted') }}, false)
            and contact_id is not null
    ) as ranked
    where role_rank = 1
),

numbered as (
    select
        opportunities.*,
        {{ vendor_row_number('id') }} as row_number_in_table
    from opportunities
),

deals as (
    select
        numbered.*,
        -- is_closed comes with every opportunity; without it, the closed stages say so
        coalesce(
            {{ parse_boolean('is_closed') }},
            lower(stage_name) in ('closed won', 'closed lost')
        ) as has_closed,
        main_contacts.contact_id as role_contact_id
    from numbered
    left join main_contacts on numbered.id = main_contacts.opportunity_id
    where not coalesce({{ parse_boolean('numbered.is_deleted') }}, false)
)

select
    id as deal_id,
    account_id as company_id,
    stage_name as stage,
    created_date as created_at,
    coalesce(role_contact_id, contact_id) as contact_id,
    amount,
    -- close_date is the expected close date of an open opportunity: closed_at only once closed
    case when has_closed then close_date end as closed_at,
    coalesce(
        is_won,
        case
            when lower(stage_name) = 'closed won' then 'true'
            when has_closed then 'false'
        end
    ) as is_won,
    _source_file,
    row_number_in_table as _source_row_number,
    _loaded_at
from deals
