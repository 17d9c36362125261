{#- One row per sync destination and audience: how many members the destination takes, how
    many it can reach, how many it may not (suppressed for its channel:
    contact_suppressions) and how many it cannot (no_address: no email for a list or an ad
    audience, no CRM record for the CRM), and the match rate (reachable / members).
    Membership says who qualifies; this says whom each destination reaches of them.

    The destinations are the sync exposures (written from syncs.yml: the export, the
    channel it reaches and the segment channels it takes, in their meta), so a destination
    added to syncs.yml is counted here at the next build. -#}

-- the exports a destination may send (dbt learns a model's parents before it knows the
-- exposures; an export added to models/exports/ is added here):
-- depends_on: {{ ref('export_audience_members') }}
-- depends_on: {{ ref('export_crm_contacts') }}
-- depends_on: {{ ref('export_crm_tasks') }}
-- depends_on: {{ ref('export_lead_notifications') }}
-- depends_on: {{ ref('export_sequence_enrollments') }}

{%- set destinations = [] %}
{%- if execute %}
    {%- for node in graph.exposures.values() | sort(attribute='name') %}
        {%- set meta = node.config.meta or node.meta or {} %}
        {%- if meta.get('destination') and meta.get('reaches') and meta.get('model') %}
            {%- do destinations.append(meta) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

reach as (
    {%- for meta in destinations %}
        select
            '{{ meta.destination }}' as destination,
            '{{ meta.reaches }}' as channel,
            audience_key,
            {{ meta.reaches }}_reach as reach
        from {{ ref(meta.model) }}
        {%- if meta.get('channels') %}
            where channel in ('{{ meta.channels | join("', '") }}')
        {%- endif %}
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as destination,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as audience_key,
        cast(null as {{ dbt.type_string() }}) as reach
    where 1 = 0
),

counted as (
    select
        destination,
        channel,
        audience_key,
        count(*) as members,
        sum(case when reach = 'reachable' then 1 else 0 end) as reachable,
        sum(case when reach = 'suppressed' then 1 else 0 end) as suppressed,
        sum(case when reach = 'no_address' then 1 else 0 end) as no_address
    from reach
    group by destination, channel, audience_key
),

final as (
    select
        -- grain
        cast(destination as {{ dbt.type_string() }}) as destination,
        cast(audience_key as {{ dbt.type_string() }}) as audience_key,

        -- the channel the destination reaches people by
        cast(channel as {{ dbt.type_string() }}) as channel,

        -- counts
        cast(members as {{ dbt.type_bigint() }}) as members,
        cast(reachable as {{ dbt.type_bigint() }}) as reachable,
        cast(suppressed as {{ dbt.type_bigint() }}) as suppressed,
        cast(no_address as {{ dbt.type_bigint() }}) as no_address,
        {{ round_to('reachable * 1.0 / members', 3) }} as match_rate,

        -- as of, and the build that wrote the row
        {{ as_of() }} as as_of,
        {{ build_id() }} as build_id
    from counted
)

select * from final
