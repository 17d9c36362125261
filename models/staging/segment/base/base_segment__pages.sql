with

source as (
    select * from {{ ref('landed__pages') }}
    where {{ in_incremental_window() }}
),

page_categories as (
    select * from {{ ref('page_categories') }}
),

parsed as (
    select
        -- ids
        {{ clean_text('id') }} as page_view_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('user_id') }} as user_id,

        -- page
        {{ clean_text('url') }} as url,
        lower(coalesce({{ clean_text('path') }}, '/')) as path,
        {{ clean_text('name') }} as page_name,
        {{ clean_text('title') }} as title,
        {{ clean_text('referrer') }} as referrer,
        {{ clean_text('context_user_agent') }} as user_agent,

        -- session
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('engaged_seconds') }} as raw_engaged_seconds,
        {{ safe_cast_number('engaged_seconds') }} as engaged_seconds,
        {{ clean_text('last_active_at') }} as raw_last_active_at,
        {{ safe_cast_timestamp('last_active_at') }} as last_active_at,

        -- timestamps
        {{ safe_cast_timestamp('timestamp') }} as occurred_at,
        {{ safe_cast_timestamp('received_at') }} as received_at,

        -- lineage
        {{ lineage_columns('timestamp') }}
    from source
),

path_categories as (
    -- each distinct path once (a site has far fewer paths than page views): the category of
    -- the pattern it matches with the lowest priority number
    select
        path,
        page_category,
        funnel_stage
    from (
        select
            paths.path,
            page_categories.page_category,
            page_categories.funnel_stage,
            row_number() over (
                partition by paths.path
                order by page_categories.priority
            ) as match_rank
        from (select distinct path from parsed) as paths
        inner join page_categories
            on paths.path like page_categories.path_pattern
    ) as matches
    where match_rank = 1
),

categorized as (
    select
        parsed.*,
        coalesce(path_categories.page_category, 'other') as page_category,
        coalesce(path_categories.funnel_stage, 'awareness') as funnel_stage
    from parsed
    left join path_categories
        on parsed.path = path_categories.path
),

validated as (
    {{ validate_and_dedupe(
        'categorized',
        [
            ['page_view_id is null', 'missing_id'],
            [is_missing_identifier('anonymous_id') ~ ' and ' ~ is_missing_identifier('user_id'), 'missing_identity'],
            ['occurred_at is null', 'invalid_timestamp'],
            ['raw_last_active_at is not null and last_active_at is null', 'invalid_timestamp'],
            [is_future_timestamp('occurred_at', 'received_at'), 'future_timestamp'],
            ['raw_engaged_seconds is not null and not coalesce(engaged_seconds >= 0, false)', 'invalid_number'],
        ],
        'page_view_id',
        arrived_at('received_at', 'occurred_at') ~ ', _loaded_at, _source_file, _source_row_number',
        held_ids=held_good_ids('page_view_id'),
    ) }}
)

select * from validated
