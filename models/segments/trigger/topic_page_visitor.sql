with

topic_views as (
    -- views per contact and topic (a page category var segments__topic_page_categories lists)
    select
        contact_key,
        signal as topic,
        sum(events) as times,
        max(last_at) as last_at
    from {{ ref('int_contact_activity_daily') }}
    where
        signal_type = 'page_category'
        and signal in (
            {%- for topic in var('segments__topic_page_categories') %}
                '{{ topic }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        and {{ is_within_days('activity_date', 14) }}
    group by contact_key, signal
),

ranked as (
    -- the contact's most viewed topic names the reason
    select
        contact_key,
        topic,
        times,
        max(last_at) over (partition by contact_key) as last_topic_at,
        row_number() over (partition by contact_key order by times desc, topic asc) as topic_rank
    from topic_views
)

select
    contact_key,
    {{ segment_reason("'viewed '", 'times', "' '", 'topic', "' pages in the last 14 days'") }} as reason,
    last_topic_at as qualified_at
from ranked
where topic_rank = 1
