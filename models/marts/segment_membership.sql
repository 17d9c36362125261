{#- lookups by contact and by segment: indexes on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['contact_key']},
        {'columns': ['segment_id']},
    ] if target.type == 'postgres' else []) }}

{#- One row per contact and segment it is in as of as_of: the union of every segment model
    (a model whose YAML has `meta.segment`), with the framework's rules applied the same way
    to all: goal completion (a converted contact leaves prospect audiences, only customers are
    in customer audiences), expiry N days after the
    last qualifying activity, and what stops audiences from flapping: a segment may keep its
    members on a lower exit threshold than it admits them on (rows with enters = false), and
    may hold them for a minimum dwell time. Both read the open spells of the membership
    history as the previous builds left it, which also gives entered_at.

    Cadence: a build recomputes the segments whose `cadence` var segments__cadences lists
    (default all: realtime, daily, weekly). The others keep the membership the build before
    as_of had, with the reason each member entered with (less members who completed the goal or were forgotten): the
    daily orchestration builds with realtime and daily, the weekly schedule with all three,
    so a weekly segment changes only at a weekly run. A build with no history before its
    as_of recomputes every segment.

    Membership says who qualifies, whatever the channel: a member without an email, or
    whose email channel is closed, is a member. Each destination sends those it can reach
    (an address for its channel, no suppression in contact_suppressions: the exports'
    <channel>_reach) and report_destination_reach counts those it cannot. -#}

-- segment models (written by `audience segments sync`; `make lint` checks it is current):
-- begin segment models
-- depends_on: {{ ref('buying_committee') }}
-- depends_on: {{ ref('cart_abandoner') }}
-- depends_on: {{ ref('case_study_reader') }}
-- depends_on: {{ ref('category_browser') }}
-- depends_on: {{ ref('churned_customer') }}
-- depends_on: {{ ref('competitor_researcher') }}
-- depends_on: {{ ref('customer') }}
-- depends_on: {{ ref('decision_stage_viewer') }}
-- depends_on: {{ ref('declining_usage') }}
-- depends_on: {{ ref('demo_page_bouncer') }}
-- depends_on: {{ ref('demo_requested') }}
-- depends_on: {{ ref('demo_video_viewer') }}
-- depends_on: {{ ref('early_intent_account') }}
-- depends_on: {{ ref('email_cta_clicker') }}
-- depends_on: {{ ref('email_dormant') }}
-- depends_on: {{ ref('email_streak_opener') }}
-- depends_on: {{ ref('engaged_reader') }}
-- depends_on: {{ ref('engaged_target_account') }}
-- depends_on: {{ ref('executive_audience') }}
-- depends_on: {{ ref('first_visit_in_6_months') }}
-- depends_on: {{ ref('fit_and_intent') }}
-- depends_on: {{ ref('form_abandoner') }}
-- depends_on: {{ ref('hot_return_visitor') }}
-- depends_on: {{ ref('integration_guide_reader') }}
-- depends_on: {{ ref('lapsed_lead_60_90') }}
-- depends_on: {{ ref('lookalike_best_customers') }}
-- depends_on: {{ ref('loyalty_member') }}
-- depends_on: {{ ref('mql_routed') }}
-- depends_on: {{ ref('nurture') }}
-- depends_on: {{ ref('power_user_advocate') }}
-- depends_on: {{ ref('price_sensitive_shopper') }}
-- depends_on: {{ ref('pricing_repeat_viewer') }}
-- depends_on: {{ ref('recent_visitor_unconverted') }}
-- depends_on: {{ ref('renewal_at_risk') }}
-- depends_on: {{ ref('researching_return_visitor') }}
-- depends_on: {{ ref('review_site_clicker') }}
-- depends_on: {{ ref('tofu_content_engaged') }}
-- depends_on: {{ ref('topic_page_visitor') }}
-- depends_on: {{ ref('web_dormant_6m') }}
-- end segment models

{%- set audiences = {
    'everyone': 'true',
    'prospects': 'not (scores.is_customer or scores.has_converted)',
    'non_customers': 'not scores.is_customer',
    'customers': 'scores.is_customer',
    'former_customers': 'scores.is_former_customer and not scores.is_customer',
} %}

with

scores as (
    select * from {{ ref('int_contact_scores') }}
),

profiles as (
    select * from {{ ref('int_contact_profiles') }}
),

{%- set history = membership_snapshot_relation() %}
{#- segments this build carries forward instead of recomputing (their cadence is not listed) -#}
{%- set carried_segments = [] %}
{%- if history is not none and history_holds_instant_before_as_of(history) %}
    {%- for node in segment_nodes() %}
        {%- if segment_setting(node, 'cadence') not in var('segments__cadences') %}
            {%- do carried_segments.append(node.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

open_spells as (
    -- read from the snapshot as it stands before this build's snapshot runs (not a ref: the
    -- snapshot is downstream of this model): the spells of the build before as_of, so a
    -- rerun or a backfill sees what the first build as of the same instant saw; empty on
    -- the first build
    {%- if history is not none %}
        select
            contact_key,
            segment_id,
            min(dbt_valid_from) as entered_at
        from {{ history }}
        where {{ history_state_before_as_of() }}
        group by contact_key, segment_id
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as contact_key,
            cast(null as {{ dbt.type_string() }}) as segment_id,
            cast(null as {{ dbt.type_timestamp() }}) as entered_at
        where false
    {%- endif %}
),

settings as (
    -- each segment's framework settings, from its YAML (or var segments__setting_overrides)
    {%- for node in segment_nodes() %}
        select
            '{{ node.name }}' as segment_id,
            {{ segment_setting_sql(node, 'expiry_days') }} as expiry_days,
            {{ segment_setting_sql(node, 'min_dwell_days') }} as min_dwell_days,
            {{ segment_setting_sql(node, 'audience') }} as audience,
            {{ segment_setting_sql(node, 'channel') }} as channel
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_int() }}) as expiry_days,
        cast(null as {{ dbt.type_int() }}) as min_dwell_days,
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as {{ dbt.type_string() }}) as channel
    where false
),

qualified as (
    -- a segment model may return rows with enters = false: they keep a contact who is
    -- already in (the exit threshold) but do not let a new one in (the entry threshold)
    {%- for node in segment_nodes() %}
        select
            '{{ node.name }}' as segment_id,
            contact_key,
            reason,
            qualified_at,
            {{ 'enters' if 'enters' in node.columns else 'true' }} as enters
        from {{ ref(node.name) }}
        {%- if node.name in carried_segments %}
            where false  -- carried forward (below)
        {%- endif %}
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as contact_key,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_timestamp() }}) as qualified_at,
        true as enters
    where false
),

candidates as (
    -- qualified now, within its expiry
    select
        qualified.segment_id,
        qualified.contact_key,
        qualified.reason,
        qualified.qualified_at
    from qualified
    inner join settings on qualified.segment_id = settings.segment_id
    left join open_spells
        on qualified.contact_key = open_spells.contact_key and qualified.segment_id = open_spells.segment_id
    where
        (qualified.enters or open_spells.contact_key is not null)
        and (
            settings.expiry_days is null
            or qualified.qualified_at >= {{ dbt.dateadd('day', '-1 * settings.expiry_days', as_of()) }}
        )
),

carried as (
    -- the segments not recomputed this build: the members of the build before as_of, as
    -- they were (no expiry: that is decided when the segment is recomputed)
    {%- if carried_segments %}
        select
            segment_id,
            contact_key,
            reason,
            qualified_at
        from {{ history }}
        where
            {{ history_state_before_as_of() }}
            and segment_id in ({% for name in carried_segments %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as segment_id,
            cast(null as {{ dbt.type_string() }}) as contact_key,
            cast(null as {{ dbt.type_string() }}) as reason,
            cast(null as {{ dbt.type_timestamp() }}) as qualified_at
        where false
    {%- endif %}
),

held as (
    -- no longer qualified but inside the segment's minimum dwell time
    select
        open_spells.segment_id,
        open_spells.contact_key,
        {{ segment_reason(
            "'held for the minimum dwell time (entered '", 'cast(open_spells.entered_at as date)', "')'",
        ) }} as reason,
        open_spells.entered_at as qualified_at
    from open_spells
    inner join settings on open_spells.segment_id = settings.segment_id
    left join candidates
        on open_spells.contact_key = candidates.contact_key and open_spells.segment_id = candidates.segment_id
    where
        candidates.contact_key is null
        and settings.min_dwell_days is not null
        {%- if carried_segments %}
            and open_spells.segment_id not in ({% for name in carried_segments %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
        {%- endif %}
        and open_spells.entered_at > {{ dbt.dateadd('day', '-1 * settings.min_dwell_days', as_of()) }}
),

eligible as (
    select
        members.*,
        settings.audience,
        settings.channel
    from (
        select * from candidates
        union all
        select * from held
        union all
        select * from carried
    ) as members
    inner join settings on members.segment_id = settings.segment_id
    inner join scores on members.contact_key = scores.contact_key
    inner join profiles on members.contact_key = profiles.contact_key
    where
        -- goal completion: who the audience is for (overrides any dwell time)
        case settings.audience
            {%- for audience, condition in audiences.items() %}
                when '{{ audience }}' then {{ condition }}
            {%- endfor %}
        end
),

final as (
    select
        -- grain
        eligible.contact_key,
        eligible.segment_id,

        -- why and since when
        eligible.reason,
        eligible.qualified_at,
        coalesce(open_spells.entered_at, {{ as_of() }}) as entered_at,

        -- the segment's control group (macros/segments/holdout.sql): members no destination
        -- receives (they read segment_membership_treated)
        {{ holdout_is_control('eligible.segment_id', 'eligible.contact_key') }} as is_control,

        -- as of, and the build that wrote the row
        {{ as_of() }} as as_of,
        {{ build_id() }} as build_id
    from eligible
    left join open_spells
        on eligible.contact_key = open_spells.contact_key and eligible.segment_id = open_spells.segment_id
)

select * from final
