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
        -- one spelling of a label: 'Financial Services' and 'financial_services' alike
        replace(lower({{ clean_text('industry') }}), ' ', '_') as industry,
        {{ safe_cast_whole_number('employee_count') }} as employee_count,
        {{ safe_cast_number('annual_revenue') }} as annual_revenue,
        upper({{ clean_text('country') }}) as country,
        coalesce({{ parse_boolean('is_target_account') }}, false) as is_target_account,

        -- timestamps: updated_at is optional, but a value given must parse
        {{ safe_cast_timestamp('updated_at') }} as updated_at,
        {{ clean_text('updated_at') }} is not null as has_updated_at,

        -- lineage
        {{ lineage_columns('updated_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['company_id is null', 'missing_id'],
            ['has_updated_at and updated_at is null', 'invalid_timestamp'],
        ],
        'company_id',
        'case when updated_at is null then 1 else 0 end, updated_at desc, _loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
