with

committees as (
    select * from {{ ref('int_account_features') }}
    where people_visiting_30d >= 3
),

members as (
    select
        profiles.contact_key,
        committees.company_id,
        committees.people_visiting_30d
    from committees
    inner join {{ ref('int_contact_profiles') }} as profiles on committees.company_id = profiles.company_id
    inner join {{ ref('int_contact_features') }} as features on profiles.contact_key = features.contact_key
    where features.page_views_30d > 0
)

select
    members.contact_key,
    {{ segment_reason(
        "'one of '",
        'members.people_visiting_30d',
        "' people of account '",
        'members.company_id',
        "' active in 30 days'",
    ) }} as reason,
    features.last_visit_at as qualified_at
from members
inner join {{ ref('int_contact_features') }} as features on members.contact_key = features.contact_key
