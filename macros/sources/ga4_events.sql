{# GA4's BigQuery export (events_YYYYMMDD, landed as one table) as the GA4 adapters read it:
   one row per event, its parameters (event_params, an array of key/value structs) as JSON
   text, event_timestamp in microseconds since 1970 (staging reads epoch timestamps).

   GA4 has no event id: event_id is a hash of the device (user_pseudo_id), the timestamp, the
   name, and what tells apart two events of one device at one instant: the bundle they were
   sent in (event_bundle_sequence_id), their place in it (batch_event_index, in newer
   exports) and their parameters. A row exported twice hashes alike, so staging sets the
   copy aside as duplicate_id. session_id is the device and its ga_session_id (a session id
   is unique per device only); null without either. #}
{% macro ga4_events() -%}
    select
        events.*,
        {{ dbt.hash(dbt.concat([
            "coalesce(events.user_pseudo_id, '')", "'|'",
            "coalesce(events.event_timestamp, '')", "'|'",
            "coalesce(events.event_name, '')", "'|'",
            "coalesce(events.event_bundle_sequence_id, '')", "'|'",
            "coalesce(events.batch_event_index, '')", "'|'",
            "coalesce(events.event_params, '')",
        ])) }} as event_id,
        case
            when events.user_pseudo_id is not null and events.ga_session_id is not null
                then {{ dbt.concat(['events.user_pseudo_id', "':'", 'events.ga_session_id']) }}
        end as session_id
    from (
        select
            raw_events.*,
            {{ json_array_param('raw_events.event_params', 'ga_session_id') }} as ga_session_id,
            {{ json_array_param('raw_events.event_params', 'engagement_time_msec') }} as engagement_time_msec
        from (
            {{ vendor_table(source('ga4', 'events'), [
                'event_timestamp', 'event_name', 'event_params', 'user_id', 'user_pseudo_id',
                'event_bundle_sequence_id', 'batch_event_index',
            ]) }}
        ) as raw_events
    ) as events
{%- endmacro %}
