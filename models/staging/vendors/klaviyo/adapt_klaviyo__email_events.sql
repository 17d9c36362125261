{{ config(enabled=adapter_enabled('klaviyo', 'email_events')) }}

with

events as (
    {{ vendor_table(source('klaviyo', 'event'), [
        'id', 'person_id', 'type', 'timestamp', 'campaign_id', 'flow_message_id', 'flow_id',
        'property_url', 'property_bounce_type', 'property_reason',
        {'name': 'property_list', 'from': ['property_list_id', 'property_list']},
        '_fivetran_deleted',
    ]) }}
),

people as (
    {{ vendor_table(source('klaviyo', 'person'), ['id', 'email']) }}
),

email_metrics as (
    select
        *,
        lower(trim(type)) as metric,
        coalesce(campaign_id, flow_message_id, flow_id) as sent_by
    from events
    where
        lower(trim(type)) in {{ klaviyo_email_metric_list() }}
        -- an event deleted in Klaviyo is no event
        and not coalesce({{ parse_boolean('_fivetran_deleted') }}, false)
),

mapped as (
    select
        -- Klaviyo's ids are its own: prefixed, so no other vendor's id can meet them
        {{ dbt.concat(["'klaviyo:'", 'email_metrics.id']) }} as event_id,
        people.email,
        -- the metric's name (seeds/event_name_map.csv): Received Email is a delivery
        email_metrics.type as event,  -- noqa: RF04
        email_metrics.timestamp,
        -- the campaign, or the flow's message, that sent the email
        email_metrics.sent_by as campaign_id,
        case
            when email_metrics.sent_by is not null
                then {{ dbt.concat(["'klaviyo:'", 'email_metrics.person_id', "':'", 'email_metrics.sent_by']) }}
        end as message_id,
        case when email_metrics.metric = 'clicked email' then email_metrics.property_url end as url,
        case
            when
                email_metrics.metric = 'bounced email'
                and lower(email_metrics.property_bounce_type) in ('hard', 'soft')
                then lower(email_metrics.property_bounce_type)
        end as bounce_type,
        -- an unsubscribe from one list (its id where the connector syncs it); the others
        -- unsubscribe from all email marketing
        case
            when email_metrics.metric = 'unsubscribed from list'
                then coalesce(email_metrics.property_list, 'list')
        end as unsubscribe_group_id,
        case
            when email_metrics.metric in ('bounced email', 'dropped email') then email_metrics.property_reason
        end as reason,
        email_metrics._source_file,
        email_metrics._source_row_number,
        email_metrics._loaded_at
    from email_metrics
    left join people
        on email_metrics.person_id = people.id
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
from mapped
