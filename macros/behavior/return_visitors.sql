{# The contacts whose visit started within the last `within_hours` hours of as_of came back
   at least `min_gap_hours` and less than `max_gap_hours` after the end of their visit
   before (either bound may be none): the return-visit triggers. One row per contact, for
   the latest such visit: contact_key, hours_since_previous_visit, visit_started_at. A visit
   older than the window never qualifies, whatever its gap. #}
{% macro return_visitors(within_hours, min_gap_hours=none, max_gap_hours=none) -%}
    select
        contact_key,
        hours_since_previous_visit,
        visit_started_at
    from (
        select
            contact_key,
            hours_since_previous_visit,
            visit_started_at,
            row_number() over (partition by contact_key order by visit_started_at desc) as return_rank
        from {{ ref('int_contact_visits') }}
        where
            hours_since_previous_visit is not null
            and visit_started_at >= {{ dbt.dateadd('hour', -1 * within_hours, as_of()) }}
            {%- if min_gap_hours is not none %}
                and hours_since_previous_visit >= {{ min_gap_hours }}
            {%- endif %}
            {%- if max_gap_hours is not none %}
                and hours_since_previous_visit < {{ max_gap_hours }}
            {%- endif %}
    ) as returns
    where return_rank = 1
{%- endmacro %}
