{#- One row per segment: how many members' accounts opened an opportunity after the member
    qualified, and how many of those were won, by as_of. -#}
with

membership as (
    select * from {{ ref('segment_membership') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
    where {{ known_by_as_of('created_at') }}
),

member_deals as (
    select
        membership.segment_id,
        membership.contact_key,
        max(case when deals.deal_id is not null then 1 else 0 end) as has_opportunity,
        max(case when deals.is_won and deals.closed_at <= {{ as_of() }} then 1 else 0 end) as has_won_deal
    from membership
    inner join profiles on membership.contact_key = profiles.contact_key
    left join deals
        on
            profiles.company_id = deals.company_id
            and deals.created_at >= coalesce(membership.qualified_at, {{ as_of() }})
    group by membership.segment_id, membership.contact_key
),

final as (
    select
        segment_id,
        count(*) as members,
        sum(has_opportunity) as members_with_opportunity,
        sum(has_won_deal) as members_with_won_deal,
        {{ round_to('sum(has_opportunity) * 1.0 / count(*)', 4) }} as opportunity_rate,
        {{ round_to('sum(has_won_deal) * 1.0 / count(*)', 4) }} as won_rate,
        {{ as_of() }} as as_of
    from member_deals
    group by segment_id
)

select * from final
