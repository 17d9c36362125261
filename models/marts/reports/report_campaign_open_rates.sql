{#- One row per email campaign: deliveries, human opens (privacy-proxy opens excluded),
    clicks, open rate, and whether it is under var email__low_open_rate (15 %). -#}
with

deliveries as (
    select * from {{ ref('int_email_deliveries') }}
),

final as (
    select
        campaign_id,
        count(*) as deliveries,
        sum(case when is_opened then 1 else 0 end) as opened,
        sum(case when is_machine_opened then 1 else 0 end) as machine_opened,
        sum(case when is_clicked then 1 else 0 end) as clicked,
        {{ round_to('sum(case when is_opened then 1 else 0 end) * 1.0 / count(*)', 4) }} as open_rate,
        sum(case when is_opened then 1 else 0 end) * 1.0 / count(*) < {{ var('email__low_open_rate') }}
            as is_low_open_rate,
        min(delivered_at) as first_delivered_at,
        max(delivered_at) as last_delivered_at
    from deliveries
    where campaign_id is not null
    group by campaign_id
)

select * from final
