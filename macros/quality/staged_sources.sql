{# Every raw table staging checks, with its base model (every raw row, quarantine_reason
   null when good) and the id column of a row: one list for the quarantine mart and the
   staging_volume quality check, so a new source is counted by both. #}
{% macro staged_sources() -%}
    {{ return([
        {'source_table': 'pages', 'base_model': 'base_segment__pages', 'id_column': 'page_view_id'},
        {'source_table': 'tracks', 'base_model': 'base_segment__tracks', 'id_column': 'track_id'},
        {'source_table': 'identifies', 'base_model': 'base_segment__identifies', 'id_column': 'identify_id'},
        {'source_table': 'email_events', 'base_model': 'base_esp__email_events', 'id_column': 'email_event_id'},
        {'source_table': 'crm_contacts', 'base_model': 'base_crm__contacts', 'id_column': 'crm_contact_id'},
        {'source_table': 'crm_companies', 'base_model': 'base_crm__companies', 'id_column': 'company_id'},
        {'source_table': 'crm_deals', 'base_model': 'base_crm__deals', 'id_column': 'deal_id'},
        {'source_table': 'product_usage', 'base_model': 'base_product__usage', 'id_column': 'usage_key'},
        {'source_table': 'subscriptions', 'base_model': 'base_product__subscriptions', 'id_column': 'subscription_key'},
        {'source_table': 'intent_signals', 'base_model': 'base_intent__signals', 'id_column': 'signal_key'},
    ]) }}
{%- endmacro %}
