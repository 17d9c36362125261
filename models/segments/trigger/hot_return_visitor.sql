with

returns as (
    select
        contact_key,
        hours_since_previous_visit,
        visit_started_at,
        row_number() over (partition by contact_key order by visit_started_at desc) as return_rank
    from {{ ref('int_contact_visits') }}
    where
        hours_since_previous_visit <= {{ var('visits__hot_return_hours') }}
        and visit_started_at >= {{ dbt.dateadd('hour', -24, as_of()) }}
)

select
    contact_key,
    {{ segment_reason("'came back '", 'hours_since_previous_visit', "' hours after the previous visit'") }} as reason,
    visit_started_at as qualified_at
from returns
where return_rank = 1
