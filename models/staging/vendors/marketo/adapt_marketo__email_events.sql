{{ config(enabled=adapter_enabled('marketo', 'email_events')) }}

{#- each email activity type's table and its name (seeds/event_name_map.csv maps them) -#}
{%- set activities = {
    'activity_send_email': 'send email',
    'activity_email_delivered': 'email delivered',
    'activity_open_email': 'open email',
    'activity_click_email': 'click email',
    'activity_email_bounced': 'email bounced',
    'activity_email_bounced_soft': 'email bounced soft',
    'activity_unsubscribe_email': 'unsubscribe email',
} -%}
{%- set fields = [
    'id', 'lead_id', 'activity_date', 'campaign_id', 'campaign_run_id', 'email_template_id',
    'primary_attribute_value_id', 'link', 'email', 'details', 'action_result', 'is_bot_activity',
] -%}

with

activities as (
    {%- for table, activity in activities.items() %}
        select
            '{{ activity }}' as activity,
            *
        from ({{ vendor_table(source('marketo', table), fields) }}) as {{ table }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

leads as (
    {{ vendor_table(source('marketo', 'lead'), ['id', 'email']) }}
),

mapped as (
    select
        -- activity ids are numbers: prefixed, so no other vendor's id can meet them
        {{ dbt.concat(["'marketo:'", 'activities.id']) }} as event_id,
        -- the lead's address (a bounce also names the address it bounced from)
        coalesce(leads.email, activities.email) as email,
        -- the lead itself, as adapt_marketo__crm_contacts names it: an activity of a lead
        -- the lead table does not (yet) hold is still that lead's, and becomes its address's
        -- once the lead is synced
        case when activities.lead_id is not null then {{ dbt.concat(["'marketo:'", 'activities.lead_id']) }} end
            as contact_id,
        -- a send the flow skipped (the lead could not be mailed) did not go out
        case
            when activities.activity = 'send email' and lower(activities.action_result) in ('skipped', 'failed')
                then 'dropped'
            else activities.activity
        end as event,  -- noqa: RF04
        activities.activity_date as timestamp,
        -- the email (asset) sent
        coalesce(activities.email_template_id, activities.primary_attribute_value_id) as campaign_id,
        -- Marketo has no message id: one email to one lead in one campaign run
        {{ dbt.concat([
            "'marketo:'", "coalesce(activities.lead_id, '')",
            "':'", "coalesce(activities.email_template_id, activities.primary_attribute_value_id, '')",
            "':'", "coalesce(activities.campaign_run_id, activities.campaign_id, '')",
        ]) }} as message_id,
        case when activities.activity = 'click email' then activities.link end as url,
        -- Marketo's bot activity flag of an open (Is Bot Activity), where the connector has it
        case when activities.activity = 'open email' then activities.is_bot_activity end as machine_open,
        case activities.activity
            when 'email bounced' then 'hard'
            when 'email bounced soft' then 'soft'
        end as bounce_type,
        -- Unsubscribe Email unsubscribes the lead from all marketing email
        cast(null as {{ dbt.type_string() }}) as unsubscribe_group_id,
        case
            when activities.activity in ('email bounced', 'email bounced soft') then activities.details
            when activities.activity = 'send email' and lower(activities.action_result) in ('skipped', 'failed')
                then lower(activities.action_result)
        end as reason,
        activities._source_file,
        activities._source_row_number,
        activities._loaded_at
    from activities
    left join leads
        on activities.lead_id = leads.id
)

select
    event_id,
    email,
    event,
    timestamp,
    campaign_id,
    message_id,
    url,
    machine_open,
    bounce_type,
    unsubscribe_group_id,
    reason,
    contact_id,
    _source_file,
    {{ vendor_row_number('event_id') }} as _source_row_number,
    _loaded_at
from mapped
