with

source as (
    select * from {{ ref('landed__identifies') }}
    where {{ in_incremental_window() }}
),

parsed as (
    select
        -- ids
        {{ clean_text('id') }} as identify_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('user_id') }} as user_id,
        {{ clean_text('email') }} as raw_email,
        {{ clean_text('traits') }} as traits,

        -- timestamps
        {{ safe_cast_timestamp('timestamp') }} as occurred_at,
        {{ safe_cast_timestamp('received_at') }} as received_at,

        -- lineage
        {{ lineage_columns('timestamp') }}
    from source
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['identify_id is null', 'missing_id'],
            [is_missing_identifier('anonymous_id') ~ ' and ' ~ is_missing_identifier('user_id'), 'missing_identity'],
            ['occurred_at is null', 'invalid_timestamp'],
            [is_future_timestamp('occurred_at', 'received_at'), 'future_timestamp'],
            ['traits is not null and not ' ~ is_valid_json('traits'), 'malformed_json'],
        ],
        'identify_id',
        arrived_at('received_at', 'occurred_at') ~ ', _loaded_at, _source_file, _source_row_number',
        held_ids=held_good_ids('identify_id'),
    ) }}
)

select * from validated
