{#- One row per contact and segment it is in as of as_of: the union of every segment model
    (a model whose YAML has `meta.segment`), with the framework's rules applied the same way
    to all: goal completion (a converted contact leaves prospect audiences, only customers are
    in customer audiences), email suppression for email audiences, and expiry N days after the
    last qualifying activity. entered_at comes from the membership history as the previous
    builds left it (a contact already in keeps the day it entered). -#}

-- segment models (written by `audience segments sync`; `make lint` checks it is current):
-- begin segment models
-- depends_on: {{ ref('buying_committee') }}
-- depends_on: {{ ref('cart_abandoner') }}
-- depends_on: {{ ref('category_browser') }}
-- depends_on: {{ ref('churned_customer') }}
-- depends_on: {{ ref('competitor_researcher') }}
-- depends_on: {{ ref('customer') }}
-- depends_on: {{ ref('decision_stage_viewer') }}
-- depends_on: {{ ref('declining_usage') }}
-- depends_on: {{ ref('demo_page_bouncer') }}
-- depends_on: {{ ref('demo_requested') }}
-- depends_on: {{ ref('early_intent_account') }}
-- depends_on: {{ ref('email_cta_clicker') }}
-- depends_on: {{ ref('email_dormant') }}
-- depends_on: {{ ref('email_streak_opener') }}
-- depends_on: {{ ref('engaged_target_account') }}
-- depends_on: {{ ref('executive_audience') }}
-- depends_on: {{ ref('fit_and_intent') }}
-- depends_on: {{ ref('form_abandoner') }}
-- depends_on: {{ ref('hot_return_visitor') }}
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
-- depends_on: {{ ref('review_site_clicker') }}
-- depends_on: {{ ref('tofu_content_engaged') }}
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

{%- set history = load_relation(api.Relation.create(
    database=target.database, schema='snapshots', identifier='segment_membership_snapshot'
)) if execute else none %}

open_spells as (
    -- read from the snapshot as it stands before this build's snapshot runs (not a ref: the
    -- snapshot is downstream of this model); empty on the first build
    {%- if history is not none %}
        select
            contact_key,
            segment_id,
            min(dbt_valid_from) as entered_at
        from {{ history }}
        where dbt_valid_to is null and dbt_valid_from <= {{ as_of() }}
        group by contact_key, segment_id
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as contact_key,
            cast(null as {{ dbt.type_string() }}) as segment_id,
            cast(null as {{ dbt.type_timestamp() }}) as entered_at
        where false
    {%- endif %}
),

qualified as (
    {%- for node in segment_nodes() %}
        select
            '{{ node.name }}' as segment_id,
            contact_key,
            reason,
            qualified_at,
            {{ segment_setting(node, 'expiry_days') if segment_setting(node, 'expiry_days') is not none else 'null' }}
                as expiry_days,
            '{{ segment_setting(node, "audience") }}' as audience,
            '{{ segment_setting(node, "channel") }}' as channel
        from {{ ref(node.name) }}
        union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as contact_key,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_timestamp() }}) as qualified_at,
        cast(null as {{ dbt.type_int() }}) as expiry_days,
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as {{ dbt.type_string() }}) as channel
    where false
),

eligible as (
    select qualified.*
    from qualified
    inner join scores on qualified.contact_key = scores.contact_key
    inner join profiles on qualified.contact_key = profiles.contact_key
    where
        -- expiry: the qualifying activity must be recent enough
        (
            qualified.expiry_days is null
            or qualified.qualified_at >= {{ dbt.dateadd('day', '-1 * qualified.expiry_days', as_of()) }}
        )
        -- email audiences: an address to send to, and no unsubscribe, bounce or complaint
        and (
            qualified.channel <> 'email'
            or (profiles.primary_email is not null and not scores.is_email_suppressed)
        )
        -- goal completion: who the audience is for
        and case qualified.audience
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

        -- as of
        {{ as_of() }} as as_of
    from eligible
    left join open_spells
        on eligible.contact_key = open_spells.contact_key and eligible.segment_id = open_spells.segment_id
)

select * from final
