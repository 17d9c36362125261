{# The raw contract (src/audience/contract.py, which the loader reads; a test keeps the two
   equal): each contract table, the dbt source that holds it as `audience load` lands it, and
   its columns. Every landed row carries these columns as text, plus the lineage columns. #}
{% macro contract_tables() -%}
    {{ return({
        'pages': {'source': 'segment', 'columns': [
            'id', 'anonymous_id', 'user_id', 'timestamp', 'received_at', 'url', 'path',
            'name', 'title', 'referrer', 'context_user_agent', 'session_id', 'engaged_seconds',
            'last_active_at']},
        'tracks': {'source': 'segment', 'columns': [
            'id', 'anonymous_id', 'user_id', 'event', 'timestamp', 'received_at',
            'properties', 'session_id']},
        'identifies': {'source': 'segment', 'columns': [
            'id', 'anonymous_id', 'user_id', 'email', 'timestamp', 'received_at', 'traits']},
        'email_events': {'source': 'esp', 'columns': [
            'event_id', 'email', 'event', 'timestamp', 'campaign_id', 'message_id',
            'url', 'machine_open', 'bounce_type', 'unsubscribe_group_id', 'reason', 'contact_id']},
        'crm_contacts': {'source': 'crm', 'columns': [
            'contact_id', 'email', 'created_at', 'company_id', 'updated_at', 'company_name',
            'email_opt_out', 'merged_into_contact_id', 'first_name', 'last_name', 'job_title',
            'persona', 'lifecycle_stage', 'owner_id', 'firmographics_verified_at']},
        'crm_companies': {'source': 'crm', 'columns': [
            'company_id', 'name', 'domain', 'updated_at', 'industry', 'employee_count',
            'annual_revenue', 'country', 'is_target_account']},
        'crm_deals': {'source': 'crm', 'columns': [
            'deal_id', 'company_id', 'stage', 'created_at', 'contact_id', 'amount',
            'closed_at', 'is_won']},
        'product_usage': {'source': 'product', 'columns': [
            'company_id', 'usage_date', 'active_users', 'key_actions']},
        'subscriptions': {'source': 'product', 'columns': [
            'company_id', 'started_at', 'status', 'renews_at', 'plan']},
        'intent_signals': {'source': 'intent', 'columns': [
            'company_domain', 'topic', 'score', 'observed_at']},
    }) }}
{%- endmacro %}

{# The columns of one contract table. #}
{% macro contract_columns(table) -%}
    {{ return(contract_tables()[table]['columns']) }}
{%- endmacro %}
