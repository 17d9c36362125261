{#- One row per ordered pair of segments that share members: how many, and what share of the
    first segment that is. Duplicates across segments show here. -#}
with

membership as (
    select * from {{ ref('segment_membership') }}
),

sizes as (
    select
        segment_id,
        count(*) as members
    from membership
    group by segment_id
),

pairs as (
    select
        first_segment.segment_id,
        second_segment.segment_id as other_segment_id,
        count(*) as shared_members
    from membership as first_segment
    inner join membership as second_segment
        on
            first_segment.contact_key = second_segment.contact_key
            and first_segment.segment_id <> second_segment.segment_id
    group by first_segment.segment_id, second_segment.segment_id
),

final as (
    select
        pairs.segment_id,
        pairs.other_segment_id,
        sizes.members,
        pairs.shared_members,
        {{ round_to('pairs.shared_members * 1.0 / sizes.members', 4) }} as share_of_segment
    from pairs
    inner join sizes on pairs.segment_id = sizes.segment_id
)

select * from final
