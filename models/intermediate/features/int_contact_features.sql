{#- One row per contact with the behavioural features scores and segments share: activity
    counts over rolling windows of as_of, email streaks, suppression (email events and CRM
    opt-outs), conversions and the return-visit pattern of the latest visit. -#}
with

contacts as (
    select distinct contact_key from {{ ref('identity_map') }}
),

daily as (
    select * from {{ ref('int_contact_activity_daily') }}
),

deliveries as (
    -- each contact's deliveries ranked newest first
    {{ ranked_email_deliveries() }}
),

visits as (
    select * from {{ ref('int_contact_visits') }}
),

crm_opt_outs as (
    -- a person who opted out of email on any of their CRM records (merged ones too)
    select * from {{ ref('int_contact_crm_opt_outs') }}
),

suppression as (
    select * from {{ ref('int_contact_email_suppression') }}
),

activity as (
    select
        contact_key,
        {{ signal_count('page_category', var('features__all_page_categories'), 7) }} as page_views_7d,
        {{ signal_count('page_category', var('features__all_page_categories'), 14) }} as page_views_14d,
        {{ signal_count('page_category', var('features__all_page_categories'), 30) }} as page_views_30d,
        {{ signal_count('page_category', var('features__all_page_categories'), 90) }} as page_views_90d,
        {{ signal_count('page_category', ['pricing'], 7) }} as pricing_views_7d,
        {{ signal_count('page_category', var('features__decision_page_categories'), 14) }} as decision_page_views_14d,
        {{ signal_count('event', var('features__conversion_events')) }} as conversions,
        {{ signal_count('event', ['Order Completed']) }} as orders,
        max(case when is_meaningful_activity then last_at end) as last_activity_at,
        max(case when signal_type = 'page_category' then last_at end) as last_visit_at
    from daily
    group by contact_key
),

email as (
    select
        contact_key,
        count(*) as deliveries,
        sum(case when is_opened then 1 else 0 end) as opened_deliveries,
        sum(
            case when recency_rank <= {{ var('email__recent_deliveries') }} then 1 else 0 end
        ) as recent_deliveries,
        sum(
            case when recency_rank <= {{ var('email__recent_deliveries') }} and is_opened then 1 else 0 end
        ) as recent_opened_deliveries,
        -- streaks run from the newest delivery back to the first that breaks them
        coalesce(min(case when not is_opened then recency_rank end) - 1, count(*)) as consecutive_opens,
        {{ ignored_in_a_row() }} as consecutive_ignored
    from deliveries
    group by contact_key
),

latest_visit as (
    select
        contact_key,
        hours_since_previous_visit,
        visit_started_at
    from (
        select
            contact_key,
            hours_since_previous_visit,
            visit_started_at,
            row_number() over (partition by contact_key order by visit_number desc) as visit_rank
        from visits
    ) as ranked
    where visit_rank = 1
),

{%- set trigger_window_start = dbt.dateadd('day', -1 * var('visits__return_trigger_days'), as_of()) %}

final as (
    select
        contacts.contact_key,

        -- web
        coalesce(activity.page_views_7d, 0) as page_views_7d,
        coalesce(activity.page_views_14d, 0) as page_views_14d,
        coalesce(activity.page_views_30d, 0) as page_views_30d,
        coalesce(activity.page_views_90d, 0) as page_views_90d,
        coalesce(activity.pricing_views_7d, 0) as pricing_views_7d,
        coalesce(activity.decision_page_views_14d, 0) as decision_page_views_14d,
        case
            when latest_visit.contact_key is null then 'never_visited'
            when latest_visit.hours_since_previous_visit is null then 'first_visit'
            -- each pattern only while it is news, as its trigger segment reads it: the 24-hour
            -- return within the last 24 hours, the others within var visits__return_trigger_days
            when latest_visit.hours_since_previous_visit >= 24 * {{ var('visits__reengage_after_days') }}
                and latest_visit.visit_started_at >= {{ trigger_window_start }}
                then 'returned_after_6_months'
            when latest_visit.hours_since_previous_visit >= 24 * {{ var('visits__researching_return_days') }}
                and latest_visit.visit_started_at >= {{ trigger_window_start }}
                then 'returned_after_14_days'
            when latest_visit.hours_since_previous_visit <= {{ var('visits__hot_return_hours') }}
                and latest_visit.visit_started_at >= {{ dbt.dateadd('hour', -24, as_of()) }}
                then 'returned_within_24_hours'
            else 'returned'
        end as return_visit_pattern,

        -- conversions
        coalesce(activity.conversions, 0) as conversions,
        coalesce(activity.orders, 0) as orders,

        -- email
        coalesce(email.deliveries, 0) as email_deliveries,
        coalesce(email.opened_deliveries, 0) as email_opened_deliveries,
        coalesce(email.recent_deliveries, 0) as recent_email_deliveries,
        coalesce(email.recent_opened_deliveries, 0) as recent_email_opened_deliveries,
        coalesce(email.consecutive_opens, 0) as consecutive_email_opens,
        coalesce(email.consecutive_ignored, 0) as consecutive_emails_ignored,
        -- why the email channel is closed, null when open: what the ESP said
        -- (int_contact_email_suppression), else an opt-out in the CRM
        coalesce(
            suppression.email_suppression_reason,
            case when crm_opt_outs.contact_key is not null then 'crm_opt_out' end
        ) as email_suppression_reason,

        -- timestamps
        activity.last_activity_at,
        activity.last_visit_at
    from contacts
    left join activity on contacts.contact_key = activity.contact_key
    left join email on contacts.contact_key = email.contact_key
    left join latest_visit on contacts.contact_key = latest_visit.contact_key
    left join crm_opt_outs on contacts.contact_key = crm_opt_outs.contact_key
    left join suppression on contacts.contact_key = suppression.contact_key
)

select * from final
