{#- What each membership spell's entrant did next: the CTEs `spells` (every spell of
    segment_membership_history that started by as_of) and `spell_outcomes` (one row per
    spell: 1 or 0 for each outcome), for report_segment_conversion and report_segment_lift.

    A spell is matured once its outcome window (`window_days` after entry, entry being
    valid_from, the as_of of the build that first had the contact in the segment) has
    passed by as_of; an outcome counts when it happened within that window: an opportunity
    on the contact's account, a won deal on it, an order, an email unsubscribe (from every
    list or one group). Emits CTE definitions, to follow `with` (and a comma). -#}
{% macro segment_outcomes(window_days) -%}
{%- set window_end = dbt.dateadd('day', window_days, 'spells.entered_at') -%}
outcome_deals as (
    select * from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
),

outcome_profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

outcome_activity as (
    select * from {{ ref('int_contact_activity_daily') }}
),

outcome_email_events as (
    select * from {{ ref('int_email_suppression_events') }}
),

spells as (
    select
        membership_spell_id,
        contact_key,
        segment_id,
        coalesce(is_control, false) as is_control,
        valid_from as entered_at,
        valid_to is null as is_open,
        {{ dbt.dateadd('day', window_days, 'valid_from') }} <= {{ as_of() }} as is_matured
    from {{ ref('segment_membership_history') }}
    where valid_from <= {{ as_of() }}
),

-- each outcome as the span it happened in: one instant, or for orders (read from the daily
-- rollup) the day's first and last order; with a window of a day or more, a span that ends
-- at or after entry and starts by the window's end has an order inside it
outcomes as (
    select
        outcome_profiles.contact_key,
        'opportunity' as outcome,
        outcome_deals.created_at as started_at,
        outcome_deals.created_at as ended_at
    from outcome_deals
    inner join outcome_profiles on outcome_deals.company_id = outcome_profiles.company_id
    union all
    select
        outcome_profiles.contact_key,
        'won_deal' as outcome,
        outcome_deals.closed_at as started_at,
        outcome_deals.closed_at as ended_at
    from outcome_deals
    inner join outcome_profiles on outcome_deals.company_id = outcome_profiles.company_id
    where outcome_deals.is_won and outcome_deals.closed_at <= {{ as_of() }}
    union all
    select
        contact_key,
        'order' as outcome,
        first_at as started_at,
        last_at as ended_at
    from outcome_activity
    where signal_type = 'event' and signal = 'Order Completed'
    union all
    select
        contact_key,
        'unsubscribe' as outcome,
        occurred_at as started_at,
        occurred_at as ended_at
    from outcome_email_events
    where event_name = 'Email Unsubscribed'
),

spell_outcomes as (
    select
        spells.membership_spell_id,
        spells.segment_id,
        spells.is_control,
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
    group by
        spells.membership_spell_id, spells.segment_id, spells.is_control, spells.is_open, spells.is_matured
)
{%- endmacro %}
