{#- lookups by contact: an index on PostgreSQL (DuckDB needs none) -#}
{{ config(indexes=[
        {'columns': ['contact_key']},
    ] if target.type == 'postgres' else []) }}

{#- One row per contact, channel and reason the person may not be reached for: consent and
    suppression as one list. Membership says who qualifies for a segment; this says whom a
    destination may not send to, by the channel it reaches people on (syncs.yml `reaches`,
    var consent__channels: email, ads, crm). Every reason that applies is a row, not only
    the first:

    - email, from the ESP's events (int_contact_email_suppression): spam_complaint,
      unsubscribed (global, unless a global resubscribe came after), hard_bounce,
      dropped_spam_reporting_address, dropped_unsubscribed_address, dropped_bounced_address,
      repeated_soft_bounces;
    - email, group_unsubscribe: one ESP group (list, topic) the person left and did not
      rejoin (email_group_unsubscribes): `group_id` says which, and it closes that group
      only (is_channel_wide false);
    - email, crm_opt_out: the CRM's consent flag on any of the person's records;
    - email, fatigued: the person ignored their last var email__fatigue_ignored_sends (5)
      delivered emails in a row (int_contact_email_fatigue); it lapses
      var email__fatigue_pause_days (30) after the last of them;
    - any channel, manual: entered by hand (`audience suppress`, privacy.manual_suppressions);
    - every channel, deletion_request: the person asked to be forgotten (`audience forget`).
      They are in no other mart (identity_map leaves them out); the row is the record that
      every destination must drop them. -#}
with

esp as (
    select * from {{ ref('int_contact_email_suppression') }}
),

group_unsubscribes as (
    select * from {{ ref('email_group_unsubscribes') }}
),

crm_opt_outs as (
    select * from {{ ref('int_contact_crm_opt_outs') }}
),

fatigue as (
    select * from {{ ref('int_contact_email_fatigue') }}
),

manual_entries as (
    select * from {{ ref('stg_privacy__manual_suppressions') }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
),

forgotten as (
    select * from {{ ref('int_forgotten_contacts') }}
),

channels as (
    {{ consent_channels() }}
),

{%- set esp_reasons = [
    'spam_complaint', 'unsubscribed', 'hard_bounce', 'dropped_spam_reporting_address',
    'dropped_unsubscribed_address', 'dropped_bounced_address', 'repeated_soft_bounces',
] %}

esp_reasons as (
    -- one row per reason whose evidence the contact has (<reason>_at is set)
    {%- for reason in esp_reasons %}
        select
            contact_key,
            '{{ reason }}' as reason,
            {{ reason }}_at as since
        from esp
        where {{ reason }}_at is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

manual as (
    -- an entry names a contact by an email (any variant of it) or by its contact key
    select
        identity_map.contact_key,
        manual_entries.channel,
        min(manual_entries.suppressed_at) as since,
        min(manual_entries.note) as detail
    from manual_entries
    inner join identity_map
        on
            (
                manual_entries.identifier_type = 'email'
                and identity_map.identifier_type = 'email'
                and manual_entries.node = {{ dbt.concat(["'email:'", 'identity_map.canonical_identifier']) }}
            )
            or (manual_entries.identifier_type = 'contact_key' and manual_entries.identifier = identity_map.contact_key)
    group by identity_map.contact_key, manual_entries.channel
),

unioned as (
    select
        contact_key,
        'email' as channel,
        reason,
        cast(null as {{ dbt.type_string() }}) as group_id,
        'esp' as source,  -- noqa: RF04
        since,
        cast(null as {{ dbt.type_string() }}) as detail
    from esp_reasons
    union all
    select
        contact_key,
        'email' as channel,
        'group_unsubscribe' as reason,
        unsubscribe_group_id as group_id,
        'esp' as source,  -- noqa: RF04
        unsubscribed_at as since,
        cast(null as {{ dbt.type_string() }}) as detail
    from group_unsubscribes
    union all
    select
        contact_key,
        'email' as channel,
        'crm_opt_out' as reason,
        cast(null as {{ dbt.type_string() }}) as group_id,
        'crm' as source,  -- noqa: RF04
        opted_out_since as since,
        cast(null as {{ dbt.type_string() }}) as detail
    from crm_opt_outs
    union all
    select
        contact_key,
        'email' as channel,
        'fatigued' as reason,
        cast(null as {{ dbt.type_string() }}) as group_id,
        'esp' as source,  -- noqa: RF04
        fatigued_since as since,
        {{ segment_reason("'ignored the last '", 'ignored_in_a_row', "' emails in a row'") }} as detail
    from fatigue
    union all
    select
        contact_key,
        channel,
        'manual' as reason,
        cast(null as {{ dbt.type_string() }}) as group_id,
        'manual' as source,  -- noqa: RF04
        since,
        detail
    from manual
    union all
    select
        forgotten.contact_key,
        channels.channel,
        'deletion_request' as reason,
        cast(null as {{ dbt.type_string() }}) as group_id,
        'deletion_request' as source,  -- noqa: RF04
        forgotten.requested_at as since,
        forgotten.request_id as detail
    from forgotten
    cross join channels
),

final as (
    select
        -- grain: contact, channel, reason (and group, for a group unsubscribe)
        {{ dbt.hash(dbt.concat([
            'contact_key', "'|'", 'channel', "'|'", 'reason', "'|'", "coalesce(group_id, '')",
        ])) }} as suppression_id,
        cast(contact_key as {{ dbt.type_string() }}) as contact_key,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(group_id as {{ dbt.type_string() }}) as group_id,
        -- a group unsubscribe closes that group only; every other row the whole channel
        group_id is null as is_channel_wide,

        -- where it comes from, since when, and a note
        cast(source as {{ dbt.type_string() }}) as source,  -- noqa: RF04
        cast(since as {{ dbt.type_timestamp() }}) as since,
        cast(detail as {{ dbt.type_string() }}) as detail,

        -- as of, and the build that wrote the row
        {{ as_of() }} as as_of,
        {{ build_id() }} as build_id
    from unioned
)

select * from final
