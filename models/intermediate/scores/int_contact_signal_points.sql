{#- One row per contact and scoring signal: how many times the contact did it and the points
    it adds to the engagement score (now and 30 days ago) and to the intent score, after time
    decay, and to the learned lead score (0 until `audience train` wrote a model: its weight
    times the log of 1 + the decayed occurrences). This is where every score comes from. -#}
with

daily as (
    select * from {{ ref('int_contact_activity_daily') }}
),

weights as (
    select * from {{ ref('scoring_weights') }}
),

learned as (
    select * from {{ ref('stg_scoring__score_weights') }}
    where feature_type = 'signal'
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
        coalesce(learned.weight, 0) as lead_weight,
        dates.as_of_date,
        dates.as_of_date_30d_ago
    from daily
    inner join weights
        on daily.signal_type = weights.signal_type and daily.signal = weights.signal
    left join learned
        on daily.signal_type = learned.signal_type and daily.signal = learned.signal
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
        {{ round_to('sum(' ~ decayed('intent_points', 'activity_date', 'as_of_date') ~ ')', 4) }} as intent_points,
        {{ round_to(
            'max(lead_weight) * ln(1 + sum(' ~ decayed('events', 'activity_date', 'as_of_date') ~ '))',
            4,
        ) }} as lead_points
    from weighted
    group by contact_key, signal_type, signal
)

select * from final
