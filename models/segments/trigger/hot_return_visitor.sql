-- hours are whole (a datediff), so under one more than var visits__hot_return_hours is
-- within them
with

returns as (
    {{ return_visitors(within_hours=24, max_gap_hours=var('visits__hot_return_hours') + 1) }}
)

select
    contact_key,
    {{ segment_reason("'came back '", 'hours_since_previous_visit', "' hours after the previous visit'") }} as reason,
    visit_started_at as qualified_at
from returns
