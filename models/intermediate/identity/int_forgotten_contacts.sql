{#- One row per contact a deletion request names (`audience forget`): the person whose
    resolved identity holds a requested identifier (any variant of a requested email, a user
    id, a CRM id) or whose contact key was given. identity_map leaves every identifier of
    theirs out, so the person is in no mart, segment or export built from it, and a later
    load that brings their rows back resolves them to the same forgotten person. -#}
with

requests as (
    select * from {{ ref('stg_privacy__deletion_requests') }}
),

resolved as (
    select * from {{ ref('int_identity_nodes_resolved') }}
),

matched as (
    select
        resolved.contact_key,
        requests.request_id,
        requests.requested_at
    from requests
    inner join resolved
        on
            (requests.node is not null and requests.node = resolved.node)
            or (requests.identifier_type = 'contact_key' and requests.identifier = resolved.contact_key)
),

final as (
    select
        -- ids
        contact_key,
        min(request_id) as request_id,

        -- timestamps
        min(requested_at) as requested_at
    from matched
    group by contact_key
)

select * from final
