{#- One row per identifier and channel entered by hand (`audience suppress`), with the
    identity node of an email (its canonical form) and `all` expanded to every channel of
    var consent__channels. -#}
with

entries as (
    select * from {{ source('privacy', 'manual_suppressions') }}
),

normalized as (
    select
        lower(trim(identifier_type)) as identifier_type,
        case
            when lower(trim(identifier_type)) = 'email' then {{ normalize_email('identifier') }}
            else trim(identifier)
        end as identifier,
        lower(trim(channel)) as channel,
        note,
        suppressed_at
    from entries
),

channels as (
    {{ consent_channels() }}
),

final as (
    select
        -- ids
        cast(normalized.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(normalized.identifier as {{ dbt.type_string() }}) as identifier,
        case
            when normalized.identifier_type = 'email'
                then {{ dbt.concat(["'email:'", canonical_email('normalized.identifier')]) }}
        end as node,

        -- the suppression
        cast(channels.channel as {{ dbt.type_string() }}) as channel,
        cast(normalized.note as {{ dbt.type_string() }}) as note,

        -- timestamps
        cast(normalized.suppressed_at as {{ dbt.type_timestamp() }}) as suppressed_at
    from normalized
    inner join channels on normalized.channel in (channels.channel, 'all')
    where normalized.identifier is not null
)

select * from final
