{{ config(enabled=adapter_enabled('sendgrid', 'email_events')) }}

with

events as (
    {{ vendor_table(source('sendgrid', 'events'), [
        'sg_event_id', 'email', 'event', 'timestamp', 'sg_message_id', 'marketing_campaign_id',
        'singlesend_id', 'category', 'url', 'sg_machine_open', 'type', 'status', 'asm_group_id',
        'reason', 'response',
    ]) }}
),

mapped as (
    select
        sg_event_id as event_id,
        email,
        -- group_unsubscribe is an unsubscribe of one group (seeds/event_name_map.csv);
        -- group_resubscribe keeps its own name
        event,
        -- unix seconds: staging reads epoch timestamps
        timestamp,
        -- the marketing campaign, else the single send, else the category (a JSON array when
        -- the message had several)
        coalesce(marketing_campaign_id, singlesend_id, category) as campaign_id,
        sg_message_id as message_id,
        url,
        case when lower(event) = 'open' then sg_machine_open end as machine_open,
        -- a bounce of type bounce is a permanent failure (hard), one of type blocked a
        -- refusal of this message (block); another type reads from its SMTP status
        case
            when lower(event) <> 'bounce' then null
            when lower(type) = 'bounce' then 'hard'
            when lower(type) = 'blocked' then 'block'
            else {{ bounce_type_from_smtp('status') }}
        end as bounce_type,
        case when lower(event) in ('group_unsubscribe', 'group_resubscribe') then asm_group_id end
            as unsubscribe_group_id,
        -- bounces and drops say why; a deferral's reason is the server's response
        case when lower(event) = 'deferred' then coalesce(reason, response) else reason end as reason,
        _source_file,
        _source_row_number,
        _loaded_at
    from events
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
    {{ vendor_row_number(['event_id', 'timestamp', 'email', 'event']) }} as _source_row_number,
    _loaded_at
from mapped
