with

source as (
    select * from {{ ref('landed__tracks') }}
    where {{ in_incremental_window() }}
),

event_names as (
    select * from {{ ref('event_name_map') }}
    where event_source = 'tracks'
),

parsed as (
    select
        -- ids
        {{ clean_text('source.id') }} as track_id,
        {{ clean_text('source.anonymous_id') }} as anonymous_id,
        {{ clean_text('source.user_id') }} as user_id,

        -- event: the canonical action its name maps to; a name the map does not know flows
        -- through under its normalized spelling, flagged unmapped (and scored 0) until mapped
        {{ clean_text('source.event') }} as raw_event_name,
        coalesce(event_names.canonical_event, {{ normalize_event_name('source.event') }}) as event_name,
        event_names.canonical_event is null as is_unmapped_event,
        {{ clean_text('source.properties') }} as properties,
        {{ clean_text('source.session_id') }} as session_id,

        -- timestamps
        {{ safe_cast_timestamp('source.timestamp') }} as occurred_at,
        {{ safe_cast_timestamp('source.received_at') }} as received_at,

        -- lineage
        {{ lineage_columns('source.timestamp') }}
    from source
    left join event_names
        on {{ normalize_event_name('source.event') }} = event_names.raw_name
),

validated as (
    {{ validate_and_dedupe(
        'parsed',
        [
            ['track_id is null', 'missing_id'],
            [is_missing_identifier('anonymous_id') ~ ' and ' ~ is_missing_identifier('user_id'), 'missing_identity'],
            ['occurred_at is null', 'invalid_timestamp'],
            [is_future_timestamp('occurred_at', 'received_at'), 'future_timestamp'],
            ['event_name is null', 'missing_event'],
            ['properties is not null and not ' ~ is_valid_json('properties'), 'malformed_json'],
        ],
        'track_id',
        arrived_at('received_at', 'occurred_at') ~ ', _loaded_at, _source_file, _source_row_number',
        held_ids=held_good_ids('track_id'),
    ) }}
)

select * from validated
