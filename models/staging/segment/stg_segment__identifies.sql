with

identifies as (
    select
        *,
        -- the email given: the column, else the traits'
        coalesce(raw_email, {{ json_extract_text('traits', 'email') }}) as given_email
    from {{ ref('base_segment__identifies') }}
    where quarantine_reason is null
),

final as (
    select
        -- ids
        identify_id,
        anonymous_id,
        user_id,
        {{ normalize_email('given_email') }} as email,
        -- an address was given but is not well formed: the call stays, without it
        {{ is_rejected_email('given_email') }} as has_rejected_email,

        -- traits
        traits,
        {{ json_extract_text('traits', 'first_name') }} as first_name,
        {{ json_extract_text('traits', 'last_name') }} as last_name,
        {{ json_extract_text('traits', 'loyalty_tier') }} as loyalty_tier,

        -- timestamps
        occurred_at,
        -- without a received_at, the moment it happened (never the load time: arrived_at)
        {{ arrived_at('received_at', 'occurred_at') }} as received_at
    from identifies
)

select * from final
