{#- Where each contact's scores come from: one row per contact and signal with its count and
    points (after time decay), its share of the engagement points, and its points (log-odds)
    in the learned lead score (0 until `audience train` wrote a model). -#}
with

points as (
    select * from {{ ref('int_contact_signal_points') }}
),

totals as (
    select
        contact_key,
        sum(case when engagement_points > 0 then engagement_points else 0 end) as positive_points
    from points
    group by contact_key
),

final as (
    select
        -- grain
        points.contact_key,
        points.signal_type,
        points.signal,

        -- measures
        points.events,
        points.engagement_points,
        points.engagement_points_30d_ago,
        points.intent_points,
        points.lead_points,
        case
            when totals.positive_points > 0 and points.engagement_points > 0
                then {{ round_to('points.engagement_points / totals.positive_points', 4) }}
            else 0
        end as share_of_engagement_points
    from points
    inner join totals on points.contact_key = totals.contact_key
)

select * from final
