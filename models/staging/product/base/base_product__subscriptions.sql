with

source as (
    -- no rows when the table does not exist (a source the user does not have)
    select * from (
        {{ vendor_table(source('product', 'subscriptions'), contract_columns('subscriptions'), loaded_at=[]) }}
    ) as landed
),

parsed as (
    select
        -- ids
        {{ clean_text('company_id') }} as company_id,
        {{ dbt.concat([clean_text('company_id'), "'|'", clean_text('started_at')]) }} as subscription_key,

        -- contract
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('plan') }}) as plan,

        -- timestamps
        {{ safe_cast_timestamp('started_at') }} as started_at,
        {{ safe_cast_timestamp('renews_at') }} as renews_at,

        -- lineage
        {{ lineage_columns('started_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['company_id is null', 'missing_id'],
            ['started_at is null', 'invalid_timestamp'],
            ["status is null or status not in ('active', 'churned')", 'unknown_status'],
        ],
        'subscription_key',
        '_loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
