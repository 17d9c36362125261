with

reads as (
    select
        contact_key,
        path,
        engaged_seconds,
        occurred_at,
        row_number() over (
            partition by contact_key order by engaged_seconds desc, occurred_at desc
        ) as read_rank
    from {{ ref('int_page_engagement') }}
    where
        engaged_seconds >= {{ var('segments__engaged_reader_seconds') }}
        and {{ is_within_days('occurred_at', 7) }}
)

select
    contact_key,
    {{ segment_reason(
        "'spent '", dbt.cast('floor(engaged_seconds / 60)', dbt.type_int()), "' minutes on '", 'path',
    ) }} as reason,
    occurred_at as qualified_at
from reads
where read_rank = 1
