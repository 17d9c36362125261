with

source as (
    select * from {{ ref('landed__crm_companies') }}
),

parsed as (
    select
        -- ids
        {{ clean_text('company_id') }} as company_id,

        -- firmographics
        {{ clean_text('name') }} as company_name,
        lower({{ clean_text('domain') }}) as domain,
        lower({{ clean_text('industry') }}) as industry,
        {{ safe_cast_number('employee_count', dbt.type_bigint()) }} as employee_count,
        {{ safe_cast_number('annual_revenue') }} as annual_revenue,
        upper({{ clean_text('country') }}) as country,
        coalesce({{ parse_boolean('is_target_account') }}, false) as is_target_account,

        -- timestamps
        {{ safe_cast_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ lineage_columns('updated_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['company_id is null', 'missing_id'],
            ['updated_at is null', 'invalid_timestamp'],
        ],
        'company_id',
        'updated_at desc, _loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
