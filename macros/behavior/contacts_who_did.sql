{# The building block of behavioural segments: the contacts who did any of `signals` (page
   categories or canonical events, by `signal_type`) at least `at_least` times within the last
   `within_days` days of as_of (all history when none), optionally only for one product
   category (`detail`). Returns contact_key, times, first_at and last_at. #}
{% macro contacts_who_did(signal_type, signals, at_least=1, within_days=none, detail=none) -%}
    select
        contact_key,
        sum(events) as times,
        min(first_at) as first_at,
        max(last_at) as last_at
    from {{ ref('int_contact_activity_daily') }}
    where
        signal_type = '{{ signal_type }}'
        and signal in ({% for s in signals %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
        {%- if within_days is not none %}
            and {{ is_within_days('activity_date', within_days) }}
        {%- endif %}
        {%- if detail is not none %}
            and signal_detail = '{{ detail }}'
        {%- endif %}
    group by contact_key
    having sum(events) >= {{ at_least }}
{%- endmacro %}
