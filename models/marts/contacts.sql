{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['contact_key'], 'unique': true},
        {'columns': ['primary_segment_id']},
    ] if target.type == 'postgres' else []) }}

with

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

scores as (
    select * from {{ ref('int_contact_scores') }}
),

membership as (
    select * from {{ ref('segment_membership_treated') }}
),

segments as (
    select * from {{ ref('segments') }}
),

primary_segments as (
    -- the highest-priority segment (lowest number) a contact is in
    select
        membership.contact_key,
        membership.segment_id,
        row_number() over (
            partition by membership.contact_key
            order by segments.priority, membership.segment_id
        ) as segment_rank
    from membership
    inner join segments on membership.segment_id = segments.segment_id
),

final as (
    -- explicit types: this is a contract-enforced public mart
    select
        -- ids
        cast(profiles.contact_key as {{ dbt.type_string() }}) as contact_key,
        cast(profiles.primary_email as {{ dbt.type_string() }}) as primary_email,
        cast(profiles.crm_contact_id as {{ dbt.type_string() }}) as crm_contact_id,
        cast(profiles.user_id as {{ dbt.type_string() }}) as user_id,
        cast(profiles.company_id as {{ dbt.type_string() }}) as company_id,
        cast(profiles.owner_id as {{ dbt.type_string() }}) as owner_id,

        -- activity
        cast(profiles.first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(scores.last_activity_at as {{ dbt.type_timestamp() }}) as last_activity_at,
        cast(scores.recency_bucket as {{ dbt.type_string() }}) as recency_bucket,
        cast(scores.return_visit_pattern as {{ dbt.type_string() }}) as return_visit_pattern,

        -- scores
        cast(scores.engagement_score as {{ type_double() }}) as engagement_score,
        cast(scores.engagement_score_30d_ago as {{ type_double() }}) as engagement_score_30d_ago,
        cast(scores.engagement_trend as {{ dbt.type_string() }}) as engagement_trend,
        cast(scores.fit_score as {{ type_double() }}) as fit_score,
        cast(scores.intent_score as {{ type_double() }}) as intent_score,
        cast(scores.lead_score as {{ type_double() }}) as lead_score,

        -- lifecycle
        cast(scores.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        scores.is_customer,
        scores.is_email_suppressed,
        cast(scores.email_suppression_reason as {{ dbt.type_string() }}) as email_suppression_reason,
        cast(primary_segments.segment_id as {{ dbt.type_string() }}) as primary_segment_id,

        -- identity
        profiles.is_identified,
        cast(profiles.identifier_count as {{ dbt.type_bigint() }}) as identifier_count,
        cast(profiles.email_count as {{ dbt.type_bigint() }}) as email_count,
        cast(profiles.crm_contact_count as {{ dbt.type_bigint() }}) as crm_contact_count,
        cast(profiles.anonymous_id_count as {{ dbt.type_bigint() }}) as anonymous_id_count,

        -- as of, and the build that wrote the row
        {{ as_of() }} as as_of,
        {{ build_id() }} as build_id
    from profiles
    inner join scores on profiles.contact_key = scores.contact_key
    left join primary_segments
        on profiles.contact_key = primary_segments.contact_key and primary_segments.segment_rank = 1
)

select * from final
