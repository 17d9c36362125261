{#- One row per segment: what its entrants did next. Counted on every membership spell of the
    history (segment_membership_history), not on the members of today, who are the ones that
    have not converted yet (a converted contact leaves the prospect segments). A spell counts
    once its outcome window (var reports__outcome_window_days after entry) has passed by
    as_of (a matured spell); an outcome counts when it happened within that window: an
    opportunity on the contact's account, a won deal on it, an order, an email unsubscribe
    (from every list or one group). Entry is valid_from, the as_of of the build that first
    had the contact in the segment (macros/reports/segment_outcomes.sql, shared with
    report_segment_lift). -#}
{%- set window_days = var('reports__outcome_window_days') %}
with

catalog as (
    select segment_id from {{ ref('segments') }}
),

{{ segment_outcomes(window_days) }},

by_segment as (
    select
        segment_id,
        count(*) as entrants,
        sum(case when is_open then 1 else 0 end) as current_members,
        sum(case when is_matured then 1 else 0 end) as matured_entrants,
        sum(case when is_matured then has_opportunity else 0 end) as entrants_with_opportunity,
        sum(case when is_matured then has_won_deal else 0 end) as entrants_with_won_deal,
        sum(case when is_matured then has_order else 0 end) as entrants_with_order,
        sum(case when is_matured then has_unsubscribe else 0 end) as entrants_who_unsubscribed
    from spell_outcomes
    group by segment_id
),

final as (
    select
        catalog.segment_id,
        coalesce(by_segment.entrants, 0) as entrants,
        coalesce(by_segment.current_members, 0) as current_members,
        coalesce(by_segment.matured_entrants, 0) as matured_entrants,
        coalesce(by_segment.entrants_with_opportunity, 0) as entrants_with_opportunity,
        coalesce(by_segment.entrants_with_won_deal, 0) as entrants_with_won_deal,
        coalesce(by_segment.entrants_with_order, 0) as entrants_with_order,
        coalesce(by_segment.entrants_who_unsubscribed, 0) as entrants_who_unsubscribed,
        case
            when by_segment.matured_entrants > 0
                then {{ round_to('by_segment.entrants_with_opportunity * 1.0 / by_segment.matured_entrants', 4) }}
        end as opportunity_rate,
        case
            when by_segment.matured_entrants > 0
                then {{ round_to('by_segment.entrants_with_won_deal * 1.0 / by_segment.matured_entrants', 4) }}
        end as won_rate,
        case
            when by_segment.matured_entrants > 0
                then {{ round_to('by_segment.entrants_with_order * 1.0 / by_segment.matured_entrants', 4) }}
        end as order_rate,
        case
            when by_segment.matured_entrants > 0
                then {{ round_to('by_segment.entrants_who_unsubscribed * 1.0 / by_segment.matured_entrants', 4) }}
        end as unsubscribe_rate,
        {{ window_days }} as outcome_window_days,
        {{ as_of() }} as as_of
    from catalog
    left join by_segment on catalog.segment_id = by_segment.segment_id
)

select * from final
