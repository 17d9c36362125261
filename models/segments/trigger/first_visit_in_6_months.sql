with

returns as (
    {{ return_visitors(
        within_hours=24 * var('visits__return_trigger_days'),
        min_gap_hours=24 * var('visits__reengage_after_days'),
    ) }}
)

select
    contact_key,
    {{ segment_reason(
        "'first visit in '", dbt.cast('floor(hours_since_previous_visit / 24)', dbt.type_int()), "' days'",
    ) }} as reason,
    visit_started_at as qualified_at
from returns
