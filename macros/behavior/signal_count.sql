{# How many times a contact did any of `signals` (of `signal_type`: page_category or event)
   within the last `days` days (all history when days is none); an aggregate over rows of
   int_contact_activity_daily. #}
{% macro signal_count(signal_type, signals, days=none) -%}
    sum(
        case
            when signal_type = '{{ signal_type }}'
                and signal in ({% for s in signals %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
                {%- if days is not none %}
                    and {{ is_within_days('activity_date', days) }}
                {%- endif %}
                then events
            else 0
        end
    )
{%- endmacro %}
