with

source as (
    select * from {{ ref('landed__crm_contacts') }}
),

parsed as (
    select
        -- ids
        {{ clean_text('contact_id') }} as crm_contact_id,
        {{ clean_text('company_id') }} as company_id,
        {{ clean_text('owner_id') }} as owner_id,
        {{ clean_text('email') }} as raw_email,
        {{ normalize_email('email') }} as email,

        -- person
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('job_title') }} as job_title,
        lower({{ clean_text('persona') }}) as persona,
        lower({{ clean_text('lifecycle_stage') }}) as lifecycle_stage,

        -- timestamps
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at,
        {{ safe_cast_timestamp('firmographics_verified_at') }} as firmographics_verified_at,

        -- lineage
        {{ lineage_columns('updated_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['crm_contact_id is null', 'missing_id'],
            ['created_at is null or updated_at is null', 'invalid_timestamp'],
        ],
        'crm_contact_id',
        'updated_at desc, _loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
