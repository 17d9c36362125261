with

tiers as (
    select
        identity_map.contact_key,
        identifies.loyalty_tier,
        identifies.occurred_at,
        row_number() over (partition by identity_map.contact_key order by identifies.occurred_at desc) as tier_rank
    from {{ ref('stg_segment__identifies') }} as identifies
    inner join {{ ref('identity_map') }} as identity_map
        on identity_map.identifier_type = 'user_id' and identifies.user_id = identity_map.identifier
    where identifies.loyalty_tier is not null
        and {{ known_by_as_of('identifies.occurred_at', 'identifies.received_at') }}
)

select
    contact_key,
    {{ segment_reason("'loyalty tier '", 'loyalty_tier') }} as reason,
    occurred_at as qualified_at
from tiers
where tier_rank = 1
