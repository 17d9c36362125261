{{ config(enabled=adapter_enabled('sendgrid')) }}

with

events as (
    {{ vendor_table(source('sendgrid', 'events'), [
        'sg_event_id', 'email', 'event', 'timestamp', 'sg_message_id', 'marketing_campaign_id',
        'singlesend_id', 'category', 'url', 'sg_machine_open', 'type', 'asm_group_id', 'reason',
    ]) }}
)

select
    sg_event_id as event_id,
    email,
    event,
    -- unix seconds: staging reads epoch timestamps
    timestamp,
    coalesce(marketing_campaign_id, singlesend_id, category) as campaign_id,
    sg_message_id as message_id,
    url,
    sg_machine_open as machine_open,
    -- bounce: `type` bounce is a permanent failure, blocked a temporary refusal
    case
        when lower(event) = 'bounce' and lower(type) = 'bounce' then 'hard'
        when lower(event) = 'bounce' and lower(type) = 'blocked' then 'block'
        when lower(event) = 'bounce' then type
    end as bounce_type,
    case when lower(event) in ('group_unsubscribe', 'group_resubscribe') then asm_group_id end
        as unsubscribe_group_id,
    reason,
    _source_file,
    _source_row_number,
    _loaded_at
from events
