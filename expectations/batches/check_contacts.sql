{#- One row per contact with the public fields the syncs send, and whether its primary segment
    is one of its memberships. Feeds the contact_validity suite. -#}
with

contacts as (
    select * from {{ ref('contacts') }}
),

memberships as (
    select * from {{ ref('segment_membership') }}
),

membership_counts as (
    select
        memberships.contact_key,
        count(*) as membership_count,
        sum(case when memberships.segment_id = contacts.primary_segment_id then 1 else 0 end)
            as primary_memberships
    from memberships
    inner join contacts on memberships.contact_key = contacts.contact_key
    group by memberships.contact_key
),

final as (
    select
        contacts.contact_key,
        contacts.primary_email,
        -- the address again when it is not well formed, by the definition staging applies
        case
            when contacts.primary_email is not null and not {{ is_valid_email('contacts.primary_email') }}
                then contacts.primary_email
        end as malformed_email,
        contacts.engagement_score,
        contacts.engagement_score_30d_ago,
        contacts.fit_score,
        contacts.intent_score,
        contacts.lead_score,
        contacts.recency_bucket,
        contacts.primary_segment_id,
        coalesce(membership_counts.membership_count, 0) as membership_count,
        case
            when membership_counts.contact_key is null and contacts.primary_segment_id is null
                then 'no_memberships'
            when membership_counts.contact_key is null then 'primary_without_memberships'
            when contacts.primary_segment_id is null then 'memberships_without_primary'
            when membership_counts.primary_memberships = 0 then 'primary_not_a_membership'
            else 'primary_is_a_membership'
        end as primary_segment_check
    from contacts
    left join membership_counts on contacts.contact_key = membership_counts.contact_key
)

select * from final
