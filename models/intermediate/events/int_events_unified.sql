{#- Every behavioural event known by as_of (page views, tracked events, email events), each
    with the contact it belongs to: the complete history of a person, anonymous visits
    before identification included. -#}
with

pages as (
    select * from {{ ref('stg_segment__pages') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
    where {{ known_by_as_of('occurred_at', 'received_at') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
    where {{ known_by_as_of('occurred_at') }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
),

web_events as (
    select
        {{ dbt.concat(["'page:'", 'page_view_id']) }} as event_id,
        'pages' as event_source,
        'Page Viewed' as event_name,
        anonymous_id,
        user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        path,
        url,
        page_category,
        funnel_stage,
        cast(null as {{ dbt.type_string() }}) as product_category,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_float() }}) as revenue,
        cast(null as {{ dbt.type_float() }}) as discount,
        cast(null as {{ dbt.type_string() }}) as coupon,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        false as is_machine_open,
        occurred_at,
        received_at
    from pages
    union all
    select
        {{ dbt.concat(["'track:'", 'track_id']) }} as event_id,
        'tracks' as event_source,
        event_name,
        anonymous_id,
        user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as path,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        product_category,
        order_id,
        revenue,
        discount,
        coupon,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        false as is_machine_open,
        occurred_at,
        received_at
    from tracks
),

web_events_resolved as (
    -- the user id names the person; the device's anonymous id only when no user id resolves
    select
        web_events.*,
        coalesce(by_user.contact_key, by_device.contact_key) as contact_key
    from web_events
    left join identity_map as by_user
        on by_user.identifier_type = 'user_id' and web_events.user_id = by_user.identifier
    left join identity_map as by_device
        on by_device.identifier_type = 'anonymous_id' and web_events.anonymous_id = by_device.identifier
),

email_events_resolved as (
    select
        {{ dbt.concat(["'email:'", 'email_events.email_event_id']) }} as event_id,
        'email_events' as event_source,
        email_events.event_name,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        email_events.email,
        cast(null as {{ dbt.type_string() }}) as path,
        email_events.url,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        cast(null as {{ dbt.type_string() }}) as product_category,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_float() }}) as revenue,
        cast(null as {{ dbt.type_float() }}) as discount,
        cast(null as {{ dbt.type_string() }}) as coupon,
        email_events.campaign_id,
        email_events.is_machine_open,
        email_events.occurred_at,
        email_events.received_at,
        by_email.contact_key
    from email_events
    left join identity_map as by_email
        on by_email.identifier_type = 'email' and email_events.email = by_email.identifier
),

unioned as (
    select * from web_events_resolved
    union all
    select * from email_events_resolved
),

final as (
    select
        -- ids
        event_id,
        contact_key,
        anonymous_id,
        user_id,
        email,

        -- event
        event_source,
        event_name,
        -- activity a person chose to do: sends, deliveries and privacy-proxy opens are not
        event_source <> 'email_events'
        or (event_name = 'Email Opened' and not is_machine_open)
        or event_name = 'Email Clicked' as is_meaningful_activity,
        is_machine_open,
        path,
        url,
        page_category,
        funnel_stage,
        product_category,
        order_id,
        revenue,
        discount,
        coupon,
        campaign_id,

        -- timestamps
        occurred_at,
        received_at
    from unioned
)

select * from final
