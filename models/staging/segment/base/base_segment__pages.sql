{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    post_hook=["{{ remember_build_state() }}"],
    incremental_window={'column': '_loaded_at', 'mode': 'load', 'source': ['segment', 'pages']},
) }}
{#- Incremental: each build parses only the raw rows loaded since the last one (see
    macros/incremental/incremental_window.sql). -#}

with

source as (
    select * from {{ source('segment', 'pages') }}
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

        -- timestamps
        {{ safe_cast_timestamp('timestamp') }} as occurred_at,
        {{ safe_cast_timestamp('received_at') }} as received_at,

        -- lineage
        {{ lineage_columns('timestamp') }}
    from source
),

category_matches as (
    -- every pattern a page matches, the lowest priority number first
    select
        parsed._source_file,
        parsed._source_row_number,
        page_categories.page_category,
        page_categories.funnel_stage,
        row_number() over (
            partition by parsed._source_file, parsed._source_row_number
            order by page_categories.priority
        ) as match_rank
    from parsed
    inner join page_categories
        on parsed.path like page_categories.path_pattern
),

categorized as (
    select
        parsed.*,
        coalesce(category_matches.page_category, 'other') as page_category,
        coalesce(category_matches.funnel_stage, 'awareness') as funnel_stage
    from parsed
    left join category_matches
        on
            parsed._source_file = category_matches._source_file
            and parsed._source_row_number = category_matches._source_row_number
            and category_matches.match_rank = 1
),

validated as (
    {{ validate_and_dedupe(
        'categorized',
        [
            ['page_view_id is null', 'missing_id'],
            [is_missing_identifier('anonymous_id') ~ ' and ' ~ is_missing_identifier('user_id'), 'missing_identity'],
            ['occurred_at is null', 'invalid_timestamp'],
            [is_future_timestamp('occurred_at', 'coalesce(received_at, _loaded_at)'), 'future_timestamp'],
        ],
        'page_view_id',
        'received_at, _loaded_at, _source_file, _source_row_number',
        held_ids=held_good_ids('page_view_id'),
    ) }}
)

select * from validated
