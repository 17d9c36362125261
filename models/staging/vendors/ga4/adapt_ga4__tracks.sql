{{ config(enabled=adapter_enabled('ga4', 'tracks')) }}
{#- Every GA4 event but page_view as a contract track, named as GA4 names it (session_start,
    scroll, purchase, generate_lead, ...), its parameters as properties. -#}
with

events as (
    {{ ga4_events() }}
),

final as (
    select
        event_id as id,
        user_pseudo_id as anonymous_id,
        user_id,
        event_name as event,  -- noqa: RF04
        -- microseconds since 1970: staging reads epoch timestamps
        event_timestamp as timestamp,
        cast(null as {{ dbt.type_string() }}) as received_at,
        {{ json_array_params_object('event_params') }} as properties,
        session_id,
        _source_file,
        {{ vendor_row_number('event_id') }} as _source_row_number,
        _loaded_at
    from events
    where coalesce(event_name, '') <> 'page_view'
)

select * from final
