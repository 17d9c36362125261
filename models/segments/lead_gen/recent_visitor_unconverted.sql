with

visitors as (
    {{ contacts_who_did('page_category', var('features__all_page_categories'), within_days=14) }}
)

select
    contact_key,
    {{ segment_reason("'visited '", 'times', "' pages in the last 14 days without converting'") }} as reason,
    last_at as qualified_at
from visitors
