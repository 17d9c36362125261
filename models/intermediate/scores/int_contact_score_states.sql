{#- One row per contact with the score state that syncs and reports follow over time: the
    scores, their 10-point bands, recency bucket, lifecycle stage and primary segment. The
    score snapshot versions a contact when a band, the bucket, the stage or the primary
    segment changes, not on every day's decay. -#}
with

contacts as (
    select * from {{ ref('contacts') }}
),

final as (
    select
        contact_key,
        engagement_score,
        cast(floor(engagement_score / 10) * 10 as {{ dbt.type_int() }}) as engagement_band,
        lead_score,
        cast(floor(lead_score / 10) * 10 as {{ dbt.type_int() }}) as lead_band,
        recency_bucket,
        lifecycle_stage,
        coalesce(primary_segment_id, 'none') as primary_segment_id,
        as_of
    from contacts
)

select * from final
