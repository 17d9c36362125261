{# The contract rows of an event CDP's warehouse schema (macros/sources/cdp_warehouse.sql):
   an adapter model of Segment, RudderStack or a tool of the same shape is one call, with the
   name of its dbt source (tables tracks, pages, screens, identifies, users). Timestamps stay
   as the vendor wrote them (ISO text, or what a typed column reads as text); staging parses
   them. #}

{# Lower-cased column names of a relation; none when it does not exist, when dbt parses, and
   in a unit test (given rows: their traits are not known). #}
{% macro cdp_columns(relation) -%}
    {%- set found = load_relation(relation) if execute and relation.schema is not none else none -%}
    {%- if found is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}

{# The payload columns as one JSON object (json_object_text), '{}' when there are none. #}
{% macro cdp_json(pairs) -%}
    {%- if pairs -%}
        {{ json_object_text(pairs) }}
    {%- else -%}
        cast('{}' as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{# tracks: each track row with the properties of its row in the per-event table (same id)
   packed into `properties`, and each per-event row that has no track row (a destination that
   skips the tracks table, a partial load) as a track of its own. The event name is the one
   the user wrote (event_text); `event` is the table's snake_case name, the fallback. A row's
   load time is the later of its two halves', so a track whose properties land later is read
   again by the incremental staging models. #}
{% macro cdp_tracks(source_name) -%}
    {%- set tracks = source(source_name, 'tracks') -%}
    {%- set call = [
        'id', 'anonymous_id', 'user_id', 'event', 'event_text', 'timestamp', 'original_timestamp',
        'received_at', 'context_session_id'] -%}
    {%- set text = dbt.type_string() -%}
with

tracks as (
    {{ vendor_table(tracks, call) }}
),

event_rows as (
    {%- for table in cdp_event_tables(tracks) %}
    {%- set payload = cdp_payload(table['columns']) %}
    select
        {{ call | join(', ') }},
        {{ cdp_json(payload['pairs']) }} as properties,
        _source_file,
        _source_row_number,
        _loaded_at
    from (
        {{ vendor_table(table['relation'], call + payload['specs']) }}
    ) as event_table
    union all
    {%- endfor %}
    select
        {%- for column in call + ['properties', '_source_file'] %}
        cast(null as {{ text }}) as {{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_bigint() }}) as _source_row_number,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at
    where 1 = 0
),

first_event_rows as (
    -- one per message id: a per-event table may hold a message twice
    select *
    from (
        select
            *,
            row_number() over (
                partition by id order by _loaded_at, _source_file, _source_row_number
            ) as id_rank
        from event_rows
        where id is not null
    ) as ranked
    where id_rank = 1
),

tracked_ids as (
    select distinct id from tracks
    where id is not null
),

tracked as (
    select
        tracks.id,
        coalesce(tracks.anonymous_id, event_rows.anonymous_id) as anonymous_id,
        coalesce(tracks.user_id, event_rows.user_id) as user_id,
        coalesce(tracks.event_text, event_rows.event_text, tracks.event, event_rows.event) as event,
        coalesce(
            tracks.timestamp, event_rows.timestamp, tracks.original_timestamp, event_rows.original_timestamp
        ) as timestamp,
        coalesce(tracks.received_at, event_rows.received_at) as received_at,
        event_rows.properties,
        coalesce(tracks.context_session_id, event_rows.context_session_id) as session_id,
        tracks._source_file,
        tracks._source_row_number,
        case
            when event_rows._loaded_at > tracks._loaded_at then event_rows._loaded_at
            else tracks._loaded_at
        end as _loaded_at
    from tracks
    left join first_event_rows as event_rows
        on tracks.id = event_rows.id
),

untracked as (
    select
        event_rows.id,
        event_rows.anonymous_id,
        event_rows.user_id,
        coalesce(event_rows.event_text, event_rows.event) as event,
        coalesce(event_rows.timestamp, event_rows.original_timestamp) as timestamp,
        event_rows.received_at,
        event_rows.properties,
        event_rows.context_session_id as session_id,
        event_rows._source_file,
        event_rows._source_row_number,
        event_rows._loaded_at
    from event_rows
    left join tracked_ids
        on event_rows.id = tracked_ids.id
    where tracked_ids.id is null
)

select * from tracked
union all
select * from untracked
{%- endmacro %}

{# pages: page calls (url, path, title and referrer, or the context_page_ ones), and screen
   calls as pages at path /screen/<name>, without a url (seeds/page_categories.csv can
   categorize them). #}
{% macro cdp_pages(source_name) -%}
    {%- set text = dbt.type_string() -%}
with

pages as (
    {{ vendor_table(source(source_name, 'pages'), [
        'id', 'anonymous_id', 'user_id', 'timestamp', 'original_timestamp', 'received_at', 'url',
        'context_page_url', 'path', 'context_page_path', 'name', 'title', 'context_page_title',
        'referrer', 'context_page_referrer', 'context_user_agent', 'context_session_id',
    ]) }}
),

screens as (
    {{ vendor_table(source(source_name, 'screens'), [
        'id', 'anonymous_id', 'user_id', 'timestamp', 'original_timestamp', 'received_at', 'name',
        'context_user_agent', 'context_session_id',
    ]) }}
)

select
    id,
    anonymous_id,
    user_id,
    coalesce(timestamp, original_timestamp) as timestamp,
    received_at,
    coalesce(url, context_page_url) as url,
    coalesce(path, context_page_path) as path,
    name,
    coalesce(title, context_page_title) as title,
    coalesce(referrer, context_page_referrer) as referrer,
    context_user_agent,
    context_session_id as session_id,
    cast(null as {{ text }}) as engaged_seconds,
    cast(null as {{ text }}) as last_active_at,
    _source_file,
    _source_row_number,
    _loaded_at
from pages
union all
select
    id,
    anonymous_id,
    user_id,
    coalesce(timestamp, original_timestamp) as timestamp,
    received_at,
    cast(null as {{ text }}) as url,
    {{ dbt.concat(["'/screen/'", "coalesce(name, '')"]) }} as path,
    name,
    name as title,
    cast(null as {{ text }}) as referrer,
    context_user_agent,
    context_session_id as session_id,
    cast(null as {{ text }}) as engaged_seconds,
    cast(null as {{ text }}) as last_active_at,
    _source_file,
    _source_row_number,
    _loaded_at
from screens
{%- endmacro %}

{# identifies: identify calls with their trait columns (and context_traits_ ones) packed into
   `traits`, the email from the email trait; and each row of the users table (a user id's
   latest traits) as an identify of that user at its received_at, id users:<user id>:<received
   at>, so a later picture of a user is a new row and the same picture loaded twice a
   duplicate. #}
{% macro cdp_identifies(source_name) -%}
    {%- set identifies = source(source_name, 'identifies') -%}
    {%- set users = source(source_name, 'users') -%}
    {%- set traits = cdp_payload(cdp_columns(identifies), context_traits=true) -%}
    {%- set user_traits = cdp_payload(cdp_columns(users), context_traits=true) -%}
with

identifies as (
    {{ vendor_table(identifies, [
        'id', 'anonymous_id', 'user_id', 'email', 'context_traits_email', 'timestamp',
        'original_timestamp', 'received_at',
    ] + traits['specs']) }}
),

users as (
    {{ vendor_table(users, [
        'id', 'anonymous_id', 'email', 'context_traits_email', 'received_at',
    ] + user_traits['specs']) }}
)

select
    id,
    anonymous_id,
    user_id,
    coalesce(email, context_traits_email) as email,
    coalesce(timestamp, original_timestamp) as timestamp,
    received_at,
    {{ cdp_json(traits['pairs']) }} as traits,
    _source_file,
    _source_row_number,
    _loaded_at
from identifies
union all
select
    {{ dbt.concat(["'users:'", 'id', "coalesce(" ~ dbt.concat(["':'", 'received_at']) ~ ", '')"]) }} as id,
    anonymous_id,
    id as user_id,
    coalesce(email, context_traits_email) as email,
    received_at as timestamp,
    received_at,
    {{ cdp_json(user_traits['pairs']) }} as traits,
    _source_file,
    _source_row_number,
    _loaded_at
from users
{%- endmacro %}
