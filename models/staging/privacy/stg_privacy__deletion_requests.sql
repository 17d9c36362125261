{#- One row per identifier of a deletion request (`audience forget`), with the identity node
    it names (emails in their canonical form, as int_identifiers_observed gives them) so the
    build finds the person whatever variant of the address their data carries. -#}
with

requests as (
    select * from {{ source('privacy', 'deletion_requests') }}
),

normalized as (
    select
        request_id,
        requested_as,
        lower(trim(identifier_type)) as identifier_type,
        case
            when lower(trim(identifier_type)) = 'email' then {{ normalize_email('identifier') }}
            else trim(identifier)
        end as identifier,
        requested_at
    from requests
),

final as (
    select
        -- ids
        cast(request_id as {{ dbt.type_string() }}) as request_id,
        cast(requested_as as {{ dbt.type_string() }}) as requested_as,
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(identifier as {{ dbt.type_string() }}) as identifier,
        -- the identity node it names (none for a contact key: that is matched as such)
        case
            when identifier_type = 'email' then {{ dbt.concat(["'email:'", canonical_email('identifier')]) }}
            when identifier_type <> 'contact_key' then {{ dbt.concat(['identifier_type', "':'", 'identifier']) }}
        end as node,

        -- timestamps
        cast(requested_at as {{ dbt.type_timestamp() }}) as requested_at
    from normalized
    where identifier is not null
)

select * from final
