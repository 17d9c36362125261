with

source as (
    select * from {{ ref('landed__crm_deals') }}
),

parsed as (
    select
        -- ids
        {{ clean_text('deal_id') }} as deal_id,
        {{ clean_text('company_id') }} as company_id,
        {{ clean_text('contact_id') }} as crm_contact_id,

        -- deal
        lower({{ clean_text('stage') }}) as stage,
        {{ safe_cast_number('amount') }} as amount,
        {{ parse_boolean('is_won') }} as is_won,

        -- timestamps
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('closed_at') }} as closed_at,

        -- lineage
        {{ lineage_columns('created_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['deal_id is null', 'missing_id'],
            ['created_at is null', 'invalid_timestamp'],
        ],
        'deal_id',
        '_loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
