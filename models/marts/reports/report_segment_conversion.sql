{#- One row per segment: what its entrants did next. Counted on every membership spell of the
    history (segment_membership_history), not on the members of today, who are the ones that
    have not converted yet (a converted contact leaves the prospect segments). A spell counts
    once its outcome window (var reports__outcome_window_days after entry) has passed by
    as_of (a matured spell); an outcome counts when it happened within that window: an
    opportunity on the contact's account, a won deal on it, an order, an email unsubscribe
    (from every list or one group). Entry is valid_from, the as_of of the build that first
    had the contact in the segment. -#}
{%- set window_days = var('reports__outcome_window_days') %}
{%- set window_end = dbt.dateadd('day', window_days, 'spells.entered_at') %}
with

catalog as (
    select segment_id from {{ ref('segments') }}
),

history as (
    select * from {{ ref('segment_membership_history') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
),

activity as (
    select * from {{ ref('int_contact_activity_daily') }}
),

email_events as (
    select * from {{ ref('int_email_suppression_events') }}
),

spells as (
    select
        membership_spell_id,
        contact_key,
        segment_id,
        valid_from as entered_at,
        valid_to is null as is_open,
        {{ dbt.dateadd('day', window_days, 'valid_from') }} <= {{ as_of() }} as is_matured
    from history
    where valid_from <= {{ as_of() }}
),

-- each outcome as the span it happened in: one instant, or for orders (read from the daily
-- rollup) the day's first and last order; with a window of a day or more, a span that ends
-- at or after entry and starts by the window's end has an order inside it
outcomes as (
    select
        profiles.contact_key,
        'opportunity' as outcome,
        deals.created_at as started_at,
        deals.created_at as ended_at
    from deals
    inner join profiles on deals.company_id = profiles.company_id
    union all
    select
        profiles.contact_key,
        'won_deal' as outcome,
        deals.closed_at as started_at,
        deals.closed_at as ended_at
    from deals
    inner join profiles on deals.company_id = profiles.company_id
    where deals.is_won and deals.closed_at <= {{ as_of() }}
    union all
    select
        contact_key,
        'order' as outcome,
        first_at as started_at,
        last_at as ended_at
    from activity
    where signal_type = 'event' and signal = 'Order Completed'
    union all
    select
        contact_key,
        'unsubscribe' as outcome,
        occurred_at as started_at,
        occurred_at as ended_at
    from email_events
    where event_name = 'Email Unsubscribed'
),

spell_outcomes as (
    select
        spells.membership_spell_id,
        spells.segment_id,
        spells.is_open,
        spells.is_matured,
        max(case when outcomes.outcome = 'opportunity' then 1 else 0 end) as has_opportunity,
        max(case when outcomes.outcome = 'won_deal' then 1 else 0 end) as has_won_deal,
        max(case when outcomes.outcome = 'order' then 1 else 0 end) as has_order,
        max(case when outcomes.outcome = 'unsubscribe' then 1 else 0 end) as has_unsubscribe
    from spells
    left join outcomes
        on
            spells.contact_key = outcomes.contact_key
            and spells.entered_at <= outcomes.ended_at
            and {{ window_end }} >= outcomes.started_at
    group by spells.membership_spell_id, spells.segment_id, spells.is_open, spells.is_matured
),

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
