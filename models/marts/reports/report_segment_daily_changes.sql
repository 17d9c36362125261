{#- One row per segment and day with entries, exits and the size at the end of the day:
    segment sizes over time, from the membership history. -#}
with

transitions as (
    select * from {{ ref('segment_transitions') }}
),

daily as (
    select
        segment_id,
        cast(transitioned_at as date) as change_date,
        sum(case when transition = 'entered' then 1 else 0 end) as entries,
        sum(case when transition = 'exited' then 1 else 0 end) as exits
    from transitions
    group by segment_id, cast(transitioned_at as date)
),

final as (
    select
        segment_id,
        change_date,
        entries,
        exits,
        sum(entries - exits) over (
            partition by segment_id order by change_date rows between unbounded preceding and current row
        ) as members_at_end_of_day
    from daily
)

select * from final
