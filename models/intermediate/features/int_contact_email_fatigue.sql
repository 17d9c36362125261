{#- One row per contact who ignored their last var email__fatigue_ignored_sends (5) delivered
    emails in a row (not opened by a person, not clicked): email fatigue, which pauses email
    outreach (the `fatigued` reason of marts.contact_suppressions). The pause lasts
    var email__fatigue_pause_days (30) after the last ignored delivery: no email goes out
    during it, so a streak cannot end by itself, and after it one more send may try again
    (ignored, it pauses again; opened, the streak is over). Privacy-proxy opens say nothing
    of a person and do not end a streak. -#}
with

deliveries as (
    {{ ranked_email_deliveries() }}
),

streaks as (
    -- the newest deliveries not opened, back to the first opened one
    select
        contact_key,
        {{ ignored_in_a_row() }} as ignored_in_a_row,
        max(delivered_at) as last_delivered_at
    from deliveries
    group by contact_key
),

fatigued as (
    select
        streaks.contact_key,
        streaks.ignored_in_a_row,
        -- the delivery that made the streak long enough
        deliveries.delivered_at as fatigued_since,
        streaks.last_delivered_at,
        {{ dbt.dateadd('day', var('email__fatigue_pause_days'), 'streaks.last_delivered_at') }} as pause_ends_at
    from streaks
    inner join deliveries
        on
            streaks.contact_key = deliveries.contact_key
            and deliveries.recency_rank = streaks.ignored_in_a_row - {{ var('email__fatigue_ignored_sends') }} + 1
    where streaks.ignored_in_a_row >= {{ var('email__fatigue_ignored_sends') }}
),

final as (
    select
        contact_key,
        ignored_in_a_row,
        fatigued_since,
        last_delivered_at,
        pause_ends_at
    from fatigued
    where pause_ends_at > {{ as_of() }}
)

select * from final
