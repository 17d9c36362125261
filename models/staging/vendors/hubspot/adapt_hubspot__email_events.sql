{{ config(enabled=adapter_enabled('hubspot', 'email_events')) }}

{#- each event type's own table, and the fields read from them (a table lacks most: null) -#}
{%- set type_tables = {
    'email_event_bounce': 'BOUNCE', 'email_event_click': 'CLICK',
    'email_event_deferred': 'DEFERRED', 'email_event_delivered': 'DELIVERED',
    'email_event_dropped': 'DROPPED', 'email_event_forward': 'FORWARD',
    'email_event_open': 'OPEN', 'email_event_print': 'PRINT', 'email_event_sent': 'SENT',
    'email_event_spam_report': 'SPAMREPORT', 'email_event_status_change': 'STATUSCHANGE',
} -%}
{%- set type_fields = [
    'id', 'category', 'status', 'response', 'drop_reason', 'url',
    'portal_subscription_status', 'subscriptions', 'source',
] -%}

with

events as (
    {{ vendor_table(source('hubspot', 'email_event'), [
        'id', 'recipient', 'type', 'created', 'email_campaign_id', 'sent_by_id', 'filtered_event',
    ]) }}
),

type_details as (
    {%- for table, type in type_tables.items() %}
        select
            '{{ type }}' as detail_type,
            *
        from ({{ vendor_table(source('hubspot', table), type_fields) }}) as {{ table }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- an event with its type's fields; a type row without its event (not synced yet) stays a
-- row, without recipient or time, and staging quarantines it
joined as (
    select
        coalesce(events.id, type_details.id) as id,
        upper(coalesce(events.type, type_details.detail_type)) as event_type,
        events.recipient,
        events.created,
        events.email_campaign_id,
        events.sent_by_id,
        events.filtered_event,
        upper(type_details.category) as category,
        type_details.status,
        type_details.response,
        type_details.drop_reason,
        type_details.url,
        upper(type_details.portal_subscription_status) as portal_subscription_status,
        type_details.subscriptions,
        type_details.source as change_source,  -- noqa: RF04
        case when events.id is not null then events._source_file else type_details._source_file end
            as _source_file,
        case when events.id is not null then events._source_row_number else type_details._source_row_number end
            as _source_row_number,
        -- the later of the two: a type row synced after its event changes the event
        greatest(
            coalesce(events._loaded_at, type_details._loaded_at),
            coalesce(type_details._loaded_at, events._loaded_at)
        ) as _loaded_at
    from events
    full outer join type_details
        on events.id = type_details.id
),

-- a status change to subscription types (the portal subscription unchanged): one row per
-- subscription type it changed, of HubSpot's JSON array
positions as (
    {{ json_array_positions() }}
),

subscription_changes as (
    select
        joined.*,
        {{ json_array_element_text('joined.subscriptions', 'positions.slot', 'id') }} as subscription_id,
        upper({{ json_array_element_text('joined.subscriptions', 'positions.slot', 'status') }})
            as subscription_status
    from joined
    inner join positions
        on positions.slot < {{ json_array_length_text('joined.subscriptions') }}
    where
        joined.event_type = 'STATUSCHANGE'
        and coalesce(joined.portal_subscription_status, '') <> 'UNSUBSCRIBED'
),

rows_of_events as (
    select
        *,
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        cast(null as {{ dbt.type_string() }}) as subscription_status
    from joined
    where
        coalesce(event_type, '') <> 'STATUSCHANGE'
        or portal_subscription_status = 'UNSUBSCRIBED'
        or coalesce({{ json_array_length_text('subscriptions') }}, 0) = 0
    union all
    select * from subscription_changes
),

mapped as (
    select
        case
            when subscription_id is not null then {{ dbt.concat(['id', "':'", 'subscription_id']) }}
            else id
        end as event_id,
        recipient as email,
        case
            -- the recipient left all of the portal's email (global), or subscription types
            when event_type = 'STATUSCHANGE' and portal_subscription_status = 'UNSUBSCRIBED' then 'unsubscribe'
            when event_type = 'STATUSCHANGE' and subscription_id is not null
                then case subscription_status
                        when 'UNSUBSCRIBED' then 'unsubscribe'
                        when 'SUBSCRIBED' then 'resubscribe'
                        else 'statuschange'
                    end
            when event_type = 'STATUSCHANGE' and portal_subscription_status = 'SUBSCRIBED' then 'resubscribe'
            else lower(event_type)
        end as event,  -- noqa: RF04
        created as timestamp,
        email_campaign_id as campaign_id,
        -- every event of a message points at its SENT event
        coalesce(sent_by_id, case when event_type = 'SENT' then id end) as message_id,
        case when event_type = 'CLICK' then url end as url,
        -- an open filtered out of HubSpot's reporting (its bot and proxy filtering)
        case when event_type = 'OPEN' then filtered_event end as machine_open,
        case
            when coalesce(event_type, '') <> 'BOUNCE' then null
            -- the address does not exist
            when category = 'UNKNOWN_USER' then 'hard'
            -- the receiver refused this message or this sender, not the address
            when category in (
                    'CONTENT', 'SPAM', 'POLICY', 'DMARC', 'DOMAIN_REPUTATION', 'IP_REPUTATION',
                    'SENDING_DOMAIN_MISCONFIGURATION'
                ) then 'block'
            -- a passing condition of the mailbox or the receiving server
            when category in (
                    'MAILBOX_FULL', 'GREYLISTING', 'THROTTLED', 'TIMEOUT', 'DNS_FAILURE',
                    'TEMPORARY_PROBLEM', 'ISP_MISCONFIGURATION'
                ) then 'soft'
            -- unknown, uncategorized or misconfigured mailboxes: the SMTP status says
            else {{ bounce_type_from_smtp('status') }}
        end as bounce_type,
        case when event_type = 'STATUSCHANGE' then subscription_id end as unsubscribe_group_id,
        case
            when event_type = 'BOUNCE' then nullif(concat_ws(': ', category, response), '')
            when event_type = 'DROPPED' then drop_reason
            when event_type = 'DEFERRED' then response
            when event_type = 'STATUSCHANGE' then change_source
        end as reason,
        _source_file,
        _source_row_number,
        _loaded_at
    from rows_of_events
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
    cast(null as {{ dbt.type_string() }}) as contact_id,
    _source_file,
    -- a status change of several subscription types is several rows: number them all
    {{ vendor_row_number('event_id', renumber=true) }} as _source_row_number,
    _loaded_at
from mapped
