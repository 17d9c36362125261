{{ config(enabled=adapter_enabled('klaviyo', 'tracks')) }}

with

events as (
    {{ vendor_table(source('klaviyo', 'event'), [
        'id', 'person_id', 'type', 'timestamp', 'datetime', 'campaign_id', 'flow_id',
        'property_value', 'property_url', '_fivetran_deleted',
    ]) }}
),

-- every metric but Klaviyo's own email's: orders, products, checkouts, site activity, SMS
tracked as (
    select *
    from events
    where
        coalesce(lower(trim(type)), '') not in {{ klaviyo_email_metric_list() }}
        -- an event deleted in Klaviyo is no event
        and not coalesce({{ parse_boolean('_fivetran_deleted') }}, false)
)

select
    {{ dbt.concat(["'klaviyo:'", 'id']) }} as id,
    cast(null as {{ dbt.type_string() }}) as anonymous_id,
    -- the person: adapt_klaviyo__identifies ties this user id to their email
    {{ dbt.concat(["'klaviyo:'", 'person_id']) }} as user_id,
    -- the metric's name (seeds/event_name_map.csv: Placed Order is Order Completed, ...)
    type as event,  -- noqa: RF04
    timestamp,
    -- when Klaviyo recorded the event
    datetime as received_at,
    {{ json_object_text([
        ('value', 'property_value'),
        ('revenue', "case when lower(trim(type)) = 'placed order' then property_value end"),
        ('url', 'property_url'),
        ('campaign_id', 'campaign_id'),
        ('flow_id', 'flow_id'),
    ]) }} as properties,
    cast(null as {{ dbt.type_string() }}) as session_id,
    _source_file,
    {{ vendor_row_number('id') }} as _source_row_number,
    _loaded_at
from tracked
