{#- What the outbound-sequence sync sends: one row per member of a segment that var
    sequences__by_segment maps to a sequence of the sales-engagement tool (Outreach,
    Salesloft, Apollo; default mql_routed -> mql_follow_up): enrolled while a member,
    unenrolled when they leave (mirror semantics). `audience_key` is the sequence. A
    sequence emails people, so email_reach is the lists' (export_audience_members): no one
    suppressed for email (fatigue included), no one without an address. -#}
{%- set sequences = var('sequences__by_segment') %}
with

members as (
    select * from {{ ref('export_audience_members') }}
),

mapped as (
    {%- for segment_id, sequence_id in sequences.items() | sort %}
        select
            '{{ segment_id }}' as segment_id,
            '{{ sequence_id }}' as sequence_id
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as sequence_id
    where 1 = 0
),

final as (
    select
        -- key: the member of one sequence
        {{ dbt.concat(['mapped.sequence_id', "':'", 'members.contact_key']) }} as record_key,
        mapped.sequence_id as audience_key,

        -- sent fields
        mapped.sequence_id,
        members.segment_id,
        members.contact_key,
        members.email,
        members.email_reach,

        {{ payload_hash(['mapped.sequence_id', 'members.email']) }} as payload_hash,
        members.build_id
    from members
    inner join mapped on members.segment_id = mapped.segment_id
)

select * from final
