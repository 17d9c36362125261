with

source as (
    -- no rows when the table does not exist (a source the user does not have)
    select * from (
        {{ vendor_table(source('product', 'product_usage'), contract_columns('product_usage'), loaded_at=[]) }}
    ) as landed
),

parsed as (
    select
        -- ids
        {{ clean_text('company_id') }} as company_id,
        {{ dbt.concat([clean_text('company_id'), "'|'", clean_text('usage_date')]) }} as usage_key,

        -- measures
        {{ safe_cast_number('active_users', dbt.type_bigint()) }} as active_users,
        {{ safe_cast_number('key_actions', dbt.type_bigint()) }} as key_actions,

        -- dates
        {{ safe_cast_date('usage_date') }} as usage_date,

        -- lineage
        {{ lineage_columns('usage_date') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['company_id is null', 'missing_id'],
            ['usage_date is null', 'invalid_timestamp'],
            ['active_users is null or key_actions is null', 'invalid_number'],
        ],
        'usage_key',
        '_loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
