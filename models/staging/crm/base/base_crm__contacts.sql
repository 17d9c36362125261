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
        -- a record merged into another (its survivor); a record is never merged into itself
        case
            when {{ clean_text('merged_into_contact_id') }} <> {{ clean_text('contact_id') }}
                then {{ clean_text('merged_into_contact_id') }}
        end as merged_into_contact_id,

        -- person
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('job_title') }} as job_title,
        lower({{ clean_text('persona') }}) as persona,
        lower({{ clean_text('lifecycle_stage') }}) as lifecycle_stage,
        -- the company of a lead that has no company record yet
        {{ clean_text('company_name') }} as company_name,

        -- consent: the person asked for no email (a spelling that is not a boolean is unknown)
        {{ parse_boolean('email_opt_out') }} as email_opt_out,

        -- timestamps: updated_at is optional, but a value given must parse
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at,
        {{ clean_text('updated_at') }} is not null as has_updated_at,
        {{ safe_cast_timestamp('firmographics_verified_at') }} as firmographics_verified_at,

        -- lineage: the timestamp text that failed, else the one that orders versions
        {{ lineage_columns(
            'case when ' ~ safe_cast_timestamp('created_at') ~ ' is null then created_at'
            ~ ' else coalesce(' ~ clean_text('updated_at') ~ ', created_at) end'
        ) }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['crm_contact_id is null', 'missing_id'],
            ['created_at is null or (has_updated_at and updated_at is null)', 'invalid_timestamp'],
        ],
        'crm_contact_id',
        'coalesce(updated_at, created_at) desc, _loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
