{{ config(enabled=adapter_enabled('mailchimp', 'email_events')) }}

with

campaigns as (
    {{ vendor_table(source('mailchimp', 'campaign'), ['id', 'send_time']) }}
),

recipients as (
    {{ vendor_table(source('mailchimp', 'campaign_recipient'), ['campaign_id', 'member_id', 'list_id']) }}
),

activities as (
    {{ vendor_table(source('mailchimp', 'campaign_recipient_activity'), [
        'action', 'campaign_id', 'member_id', 'list_id', 'timestamp', 'bounce_type', 'url',
    ]) }}
),

unsubscribes as (
    {{ vendor_table(source('mailchimp', 'unsubscribe'), [
        'campaign_id', 'member_id', 'list_id', 'timestamp', 'reason',
    ]) }}
),

members as (
    {{ vendor_table(source('mailchimp', 'member'), ['id', 'list_id', 'email_address']) }}
),

bounced as (
    select distinct
        campaign_id,
        member_id
    from activities
    where lower(action) = 'bounce'
),

-- a recipient of a sent campaign was delivered it at its send time, unless it bounced (then
-- it was only sent)
sends as (
    select
        {{ dbt.concat(["'mailchimp:'", 'recipients.campaign_id', "':'", 'recipients.member_id', "':send'"]) }}
            as event_id,
        case when bounced.member_id is null then 'delivered' else 'sent' end as event,  -- noqa: RF04
        campaigns.send_time as timestamp,
        recipients.campaign_id,
        recipients.member_id,
        recipients.list_id,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as bounce_type,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_group_id,
        cast(null as {{ dbt.type_string() }}) as reason,
        recipients._source_file,
        recipients._source_row_number,
        recipients._loaded_at
    from recipients
    left join campaigns
        on recipients.campaign_id = campaigns.id
    left join bounced
        on
            recipients.campaign_id = bounced.campaign_id
            and recipients.member_id = bounced.member_id
),

-- opens, clicks and bounces: an action of a member in a campaign at an instant
actions as (
    select
        {{ dbt.concat([
            "'mailchimp:'", 'campaign_id', "':'", 'member_id', "':'", 'lower(action)', "':'", 'timestamp',
        ]) }} as event_id,
        lower(action) as event,  -- noqa: RF04
        timestamp,
        campaign_id,
        member_id,
        list_id,
        case when lower(action) = 'click' then url end as url,
        case when lower(action) = 'bounce' then lower(bounce_type) end as bounce_type,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_group_id,
        cast(null as {{ dbt.type_string() }}) as reason,
        _source_file,
        _source_row_number,
        _loaded_at
    from activities
),

-- an unsubscribe leaves the audience (list) only: a group unsubscribe of the list, unless
-- var mailchimp__unsubscribe_is_global (an account with one audience) makes it global
unsubscribed as (
    select
        {{ dbt.concat(["'mailchimp:'", 'campaign_id', "':'", 'member_id', "':unsubscribe:'", 'timestamp']) }}
            as event_id,
        'unsubscribe' as event,  -- noqa: RF04
        timestamp,
        campaign_id,
        member_id,
        list_id,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as bounce_type,
        {% if var('mailchimp__unsubscribe_is_global', false) in [true, 'true', 'True', 1] -%}
            cast(null as {{ dbt.type_string() }})
        {%- else -%}
            list_id
        {%- endif %} as unsubscribe_group_id,
        reason,
        _source_file,
        _source_row_number,
        _loaded_at
    from unsubscribes
),

mailchimp_events as (
    select * from sends
    union all
    select * from actions
    union all
    select * from unsubscribed
),

with_addresses as (
    select
        mailchimp_events.*,
        members.email_address as email,
        {{ dbt.concat(["'mailchimp:'", 'mailchimp_events.campaign_id', "':'", 'mailchimp_events.member_id']) }}
            as message_id
    from mailchimp_events
    left join members
        on
            mailchimp_events.member_id = members.id
            and mailchimp_events.list_id = members.list_id
)

select
    event_id,
    email,
    event,
    timestamp,
    campaign_id,
    message_id,
    url,
    cast(null as {{ dbt.type_string() }}) as machine_open,
    bounce_type,
    unsubscribe_group_id,
    reason,
    cast(null as {{ dbt.type_string() }}) as contact_id,
    _source_file,
    {{ vendor_row_number('event_id') }} as _source_row_number,
    _loaded_at
from with_addresses
