{#- Known people with no meaningful activity for 90 days: they leave the active audiences
    (which expire sooner) and are nurtured by email instead. -#}
select
    scores.contact_key,
    {{ segment_reason(
        "'inactive since '",
        "coalesce(cast(cast(scores.last_activity_at as date) as " ~ dbt.type_string() ~ "), 'ever')",
    ) }} as reason,
    {{ as_of() }} as qualified_at
from {{ ref('int_contact_scores') }} as scores
inner join {{ ref('int_contact_profiles') }} as profiles on scores.contact_key = profiles.contact_key
where
    profiles.is_identified
    and profiles.first_seen_at < {{ dbt.dateadd('day', -90, as_of()) }}
    and (scores.last_activity_at is null or scores.last_activity_at < {{ dbt.dateadd('day', -90, as_of()) }})
