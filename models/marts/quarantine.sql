{#- Every raw row that staging set aside, with the reason and the file and row it came from
    (so nothing is lost: fix the source or the seed and re-load). -#}
{%- set checked_sources = [
    ('pages', 'base_segment__pages', 'page_view_id'),
    ('tracks', 'base_segment__tracks', 'track_id'),
    ('identifies', 'base_segment__identifies', 'identify_id'),
    ('email_events', 'base_esp__email_events', 'email_event_id'),
    ('crm_contacts', 'base_crm__contacts', 'crm_contact_id'),
    ('crm_companies', 'base_crm__companies', 'company_id'),
    ('crm_deals', 'base_crm__deals', 'deal_id'),
    ('product_usage', 'base_product__usage', 'usage_key'),
    ('subscriptions', 'base_product__subscriptions', 'subscription_key'),
    ('intent_signals', 'base_intent__signals', 'signal_key'),
] -%}

with

{% for source_table, base_model, id_column in checked_sources %}
    {{ source_table }} as (
        select
            '{{ source_table }}' as source_table,
            {{ id_column }} as record_id,
            quarantine_reason,
            raw_timestamp,
            _source_file as source_file,
            _source_row_number as source_row_number,
            _loaded_at as loaded_at
        from {{ ref(base_model) }}
        where quarantine_reason is not null
    ),
{% endfor %}

unioned as (
    {% for source_table, _, _ in checked_sources %}
        select * from {{ source_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        {{ dbt.hash(dbt.concat(['source_file', "'|'", dbt.cast('source_row_number', dbt.type_string())])) }}
            as quarantine_id,
        source_table,
        record_id,
        quarantine_reason,
        raw_timestamp,
        source_file,
        source_row_number,
        loaded_at
    from unioned
)

select * from final
