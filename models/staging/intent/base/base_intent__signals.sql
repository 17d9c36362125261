with

source as (
    -- no rows when the table does not exist (a source the user does not have)
    select * from (
        {{ vendor_table(source('intent', 'intent_signals'), contract_columns('intent_signals'), loaded_at=[]) }}
    ) as landed
),

parsed as (
    select
        -- ids
        lower({{ clean_text('company_domain') }}) as company_domain,
        lower({{ clean_text('topic') }}) as topic,
        {{ dbt.concat([
            "lower(" ~ clean_text('company_domain') ~ ")", "'|'",
            "lower(" ~ clean_text('topic') ~ ")", "'|'",
            clean_text('observed_at'),
        ]) }} as signal_key,

        -- measures
        {{ safe_cast_number('score') }} as intent_score,

        -- timestamps
        {{ safe_cast_timestamp('observed_at') }} as observed_at,

        -- lineage
        {{ lineage_columns('observed_at') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['company_domain is null or topic is null', 'missing_id'],
            ['observed_at is null', 'invalid_timestamp'],
            ['intent_score is null or intent_score < 0 or intent_score > 100', 'invalid_number'],
        ],
        'signal_key',
        '_loaded_at desc, _source_file, _source_row_number',
    ) }}
)

select * from validated
