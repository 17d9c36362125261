with

source as (
    select * from {{ ref('landed__email_events') }}
    where {{ in_incremental_window() }}
),

event_names as (
    select * from {{ ref('event_name_map') }}
    where event_source = 'email'
),

parsed as (
    select
        -- ids
        {{ clean_text('source.event_id') }} as email_event_id,
        {{ clean_text('source.email') }} as raw_email,
        {{ normalize_email('source.email') }} as email,
        -- the CRM contact the ESP names the person by (a Marketo lead), when it does
        {{ clean_text('source.contact_id') }} as crm_contact_id,
        {{ clean_text('source.campaign_id') }} as campaign_id,
        {{ clean_text('source.message_id') }} as message_id,

        -- event: the canonical email event its name maps to; a name the map does not know
        -- flows through under its normalized spelling, flagged unmapped, until mapped
        lower(trim(source.event)) as raw_event_name,
        coalesce(event_names.canonical_event, {{ normalize_event_name('source.event') }}) as event_name,
        event_names.canonical_event is null as is_unmapped_event,
        {{ clean_text('source.url') }} as url,
        coalesce({{ parse_boolean('source.machine_open') }}, false) as is_machine_open,

        -- what the ESP says about a bounce, an unsubscribe or a drop, as it says it
        {{ clean_text('source.bounce_type') }} as raw_bounce_type,
        {{ clean_text('source.unsubscribe_group_id') }} as unsubscribe_group_id,
        {{ clean_text('source.reason') }} as reason,

        -- timestamps
        {{ safe_cast_timestamp('source.timestamp') }} as occurred_at,

        -- lineage
        {{ lineage_columns('source.timestamp') }}
    from source
    left join event_names
        on {{ normalize_event_name('source.event') }} = event_names.raw_name
),

validated as (
    {#- an event needs a person: its address, else the CRM contact the ESP names (an event of
        a known contact whose address is not one, a bounce of a hashed address, is still the
        contact's: a bounce or an unsubscribe set aside would leave the person mailable) #}
    {{ validate_and_dedupe(
        'parsed',
        [
            ['email_event_id is null', 'missing_id'],
            [is_missing_identifier('raw_email') ~ ' and ' ~ is_missing_identifier('crm_contact_id'), 'missing_email'],
            ['not ' ~ is_missing_identifier('raw_email') ~ ' and email is null and crm_contact_id is null', 'invalid_email'],
            ['occurred_at is null', 'invalid_timestamp'],
            ['event_name is null', 'missing_event'],
        ],
        'email_event_id',
        'occurred_at, _loaded_at, _source_file, _source_row_number',
        held_ids=held_good_ids('email_event_id'),
    ) }}
)

select * from validated
