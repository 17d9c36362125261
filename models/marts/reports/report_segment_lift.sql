{#- One row per segment with a holdout group and outcome: how much more often its treated
    members (those the destinations received) did the outcome than its control group (the
    members no destination received: is_control, macros/segments/holdout.sql) within var
    reports__outcome_window_days of entering. Counted on the matured membership spells of
    the history, with the outcomes of report_segment_conversion
    (macros/reports/segment_outcomes.sql): opportunity, won_deal, order, unsubscribe.

    lift is the treated rate less the control rate, with its 95 % confidence interval by
    Newcombe's hybrid Wilson score method (Newcombe 1998, method 10: each rate's Wilson
    interval, combined by the square root of the sum of squares), and needed_per_group the
    entrants each group needs to detect a difference as large as the observed one (two-sided
    alpha 0.05, power 0.8, the normal approximation for two proportions). A segment is listed
    once one of its spells is a control. -#}
{%- set window_days = var('reports__outcome_window_days') %}
{#- normal quantiles: 0.975 (two-sided 95 %) and 0.8 (power) -#}
{%- set z = 1.959963984540054 %}
{%- set z_power = 0.8416212335729143 %}
{%- set z2 = z * z %}
{%- set outcome_flags = {
    'opportunity': 'has_opportunity',
    'won_deal': 'has_won_deal',
    'order': 'has_order',
    'unsubscribe': 'has_unsubscribe',
} %}
with

{{ segment_outcomes(window_days) }},

held_out_segments as (
    select distinct segment_id
    from spells
    where is_control
),

matured as (
    select spell_outcomes.*
    from spell_outcomes
    inner join held_out_segments on spell_outcomes.segment_id = held_out_segments.segment_id
    where spell_outcomes.is_matured
),

by_outcome as (
    {%- for outcome, flag in outcome_flags.items() %}
        select
            segment_id,
            '{{ outcome }}' as outcome,
            is_control,
            {{ flag }} as hit
        from matured
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

counts as (
    select
        segment_id,
        outcome,
        sum(case when is_control then 0 else 1 end) as treated_entrants,
        sum(case when is_control then 0 else hit end) as treated_with_outcome,
        sum(case when is_control then 1 else 0 end) as control_entrants,
        sum(case when is_control then hit else 0 end) as control_with_outcome
    from by_outcome
    group by segment_id, outcome
),

rates as (
    select
        *,
        case
            when treated_entrants > 0
                then cast(treated_with_outcome as {{ type_double() }}) / treated_entrants
        end as treated_rate,
        case
            when control_entrants > 0
                then cast(control_with_outcome as {{ type_double() }}) / control_entrants
        end as control_rate
    from counts
),

wilson as (
    -- each rate's Wilson score interval: (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - p))) / 2(n + z^2)
    select
        *,
        treated_rate - control_rate as lift,
        (treated_rate + control_rate) / 2 as mean_rate,
        (2 * treated_with_outcome + {{ z2 }} - {{ z }} * sqrt({{ z2 }} + 4 * treated_with_outcome * (1 - treated_rate)))
        / (2 * (treated_entrants + {{ z2 }})) as treated_low,
        (2 * treated_with_outcome + {{ z2 }} + {{ z }} * sqrt({{ z2 }} + 4 * treated_with_outcome * (1 - treated_rate)))
        / (2 * (treated_entrants + {{ z2 }})) as treated_high,
        (2 * control_with_outcome + {{ z2 }} - {{ z }} * sqrt({{ z2 }} + 4 * control_with_outcome * (1 - control_rate)))
        / (2 * (control_entrants + {{ z2 }})) as control_low,
        (2 * control_with_outcome + {{ z2 }} + {{ z }} * sqrt({{ z2 }} + 4 * control_with_outcome * (1 - control_rate)))
        / (2 * (control_entrants + {{ z2 }})) as control_high
    from rates
),

newcombe as (
    select
        *,
        lift - sqrt(power(treated_rate - treated_low, 2) + power(control_high - control_rate, 2)) as lift_ci_low,
        lift + sqrt(power(treated_high - treated_rate, 2) + power(control_rate - control_low, 2)) as lift_ci_high,
        -- the sample per group: (z_a sqrt(2 p(1 - p)) + z_b sqrt(p1(1 - p1) + p2(1 - p2)))^2 / d^2,
        -- p the mean of the two rates
        {{ z }} * sqrt(2 * mean_rate * (1 - mean_rate))
        + {{ z_power }} * sqrt(treated_rate * (1 - treated_rate) + control_rate * (1 - control_rate))
            as sample_root
    from wilson
),

final as (
    select
        -- grain
        segment_id,
        outcome,

        -- the groups
        treated_entrants,
        control_entrants,
        treated_with_outcome,
        control_with_outcome,
        {{ round_to('treated_rate', 4) }} as treated_rate,
        {{ round_to('control_rate', 4) }} as control_rate,

        -- the difference, its 95 % interval, and the sample it needs
        {{ round_to('lift', 4) }} as lift,
        {{ round_to('lift_ci_low', 4) }} as lift_ci_low,
        {{ round_to('lift_ci_high', 4) }} as lift_ci_high,
        coalesce(lift_ci_low > 0 or lift_ci_high < 0, false) as is_significant,
        case
            when lift <> 0 then cast(ceil(power(sample_root, 2) / power(lift, 2)) as {{ dbt.type_bigint() }})
        end as needed_per_group,

        {{ window_days }} as outcome_window_days,
        {{ as_of() }} as as_of
    from newcombe
)

select * from final
