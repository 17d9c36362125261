{{ config(enabled=adapter_enabled('snowplow', 'tracks')) }}
{#- Snowplow's other events as contract tracks: a structured event is named by its se_action
    (se_category, se_label, se_property and se_value go to properties, under Snowplow's
    names), any other (a self-describing link_click, consent_preferences, ...) by its
    event_name. A legacy ecommerce transaction's tr_orderid and tr_total are its order_id and
    revenue. Page views are pages; page pings are engaged time (adapt_snowplow__pages). -#}
with

events as (
    {{ snowplow_events() }}
),

final as (
    select
        event_id as id,
        domain_userid as anonymous_id,
        user_id,
        case
            when kind = 'event' or lower(event) = 'struct' then coalesce(se_action, kind)
            else kind
        end as event,  -- noqa: RF04
        coalesce({{ clean_text('derived_tstamp') }}, collector_tstamp) as timestamp,
        collector_tstamp as received_at,
        {{ json_object_text([
            ['event_vendor', 'event_vendor'], ['event_version', 'event_version'],
            ['se_category', 'se_category'], ['se_action', 'se_action'], ['se_label', 'se_label'],
            ['se_property', 'se_property'], ['se_value', 'se_value'],
            ['page_url', 'page_url'], ['order_id', 'tr_orderid'], ['revenue', 'tr_total'],
        ]) }} as properties,
        domain_sessionid as session_id,
        _source_file,
        {{ vendor_row_number(['event_id', 'collector_tstamp', 'derived_tstamp']) }} as _source_row_number,
        _loaded_at
    from events
    where coalesce(kind, '') not in ('page_view', 'page_ping')
)

select * from final
