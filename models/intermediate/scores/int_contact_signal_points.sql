{#- One row per contact and scoring signal: how many times the contact did it and the points
    it adds to the engagement score (now and 30 days ago) and to the intent score, after time
    decay. This is where every score comes from. -#}
with

daily as (
    select * from {{ ref('int_contact_activity_daily') }}
),

weights as (
    select * from {{ ref('scoring_weights') }}
),

dates as (
    select
        cast({{ as_of() }} as date) as as_of_date,
        cast({{ dbt.dateadd('day', -30, as_of()) }} as date) as as_of_date_30d_ago
),

weighted as (
    select
        daily.contact_key,
        daily.signal_type,
        daily.signal,
        daily.activity_date,
        daily.events,
        weights.weight * daily.events as points,
        weights.intent_weight * daily.events as intent_points,
        dates.as_of_date,
        dates.as_of_date_30d_ago
    from daily
    inner join weights
        on daily.signal_type = weights.signal_type and daily.signal = weights.signal
    cross join dates
),

final as (
    select
        -- grain
        contact_key,
        signal_type,
        signal,

        -- measures
        sum(events) as events,
        {{ round_to('sum(' ~ decayed('points', 'activity_date', 'as_of_date') ~ ')', 4) }} as engagement_points,
        {{ round_to(
            'sum(case when activity_date <= as_of_date_30d_ago then '
            ~ decayed('points', 'activity_date', 'as_of_date_30d_ago') ~ ' else 0 end)',
            4,
        ) }} as engagement_points_30d_ago,
        {{ round_to('sum(' ~ decayed('intent_points', 'activity_date', 'as_of_date') ~ ')', 4) }} as intent_points
    from weighted
    group by contact_key, signal_type, signal
)

select * from final
