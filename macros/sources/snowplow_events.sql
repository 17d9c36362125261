{# Snowplow's atomic events as the Snowplow adapters read them: the columns they map, the
   page view id of the web_page context (the first entity of
   contexts_com_snowplowanalytics_snowplow_web_page_1, as the warehouse loaders name it, or
   ..._1_0_0 as an export of it does), the event's name (event_name, or the legacy `event`
   column: page_view, page_ping, struct, unstruct, ...) and its timestamps parsed: derived_at
   (derived_tstamp, or collector_tstamp when the tracker sent no device time), collected_at
   (collector_tstamp: when Snowplow's collector received it) and created_at
   (dvce_created_tstamp: the device's clock, which page pings' heartbeats count in).
   load_tstamp says when a row reached a warehouse Snowplow's loader writes. #}
{% macro snowplow_events() -%}
    select
        events.*,
        coalesce(
            {{ safe_cast_timestamp('events.derived_tstamp') }},
            {{ safe_cast_timestamp('events.collector_tstamp') }}
        ) as derived_at,
        {{ safe_cast_timestamp('events.collector_tstamp') }} as collected_at,
        {{ safe_cast_timestamp('events.dvce_created_tstamp') }} as created_at,
        lower(coalesce({{ clean_text('events.event_name') }}, {{ clean_text('events.event') }})) as kind,
        {{ clean_text(json_array_first_text('events.web_page_context', 'id')) }} as page_view_id
    from (
        {{ vendor_table(source('snowplow', 'events'), [
            'event_id', 'event', 'event_name', 'event_vendor', 'event_version',
            'domain_userid', 'user_id', 'domain_sessionid',
            'derived_tstamp', 'collector_tstamp', 'dvce_created_tstamp',
            'page_url', 'page_urlpath', 'page_title', 'page_referrer', 'useragent',
            'se_category', 'se_action', 'se_label', 'se_property', 'se_value',
            'tr_orderid', 'tr_total',
            {'name': 'web_page_context', 'from': [
                'contexts_com_snowplowanalytics_snowplow_web_page_1',
                'contexts_com_snowplowanalytics_snowplow_web_page_1_0_0']},
        ], loaded_at=['load_tstamp']) }}
    ) as events
{%- endmacro %}
