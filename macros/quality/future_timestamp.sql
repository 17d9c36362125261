{# True when a row claims to have happened later than it reached us, beyond the clock-skew
   tolerance (var raw__future_tolerance_hours): a client clock in the future, not an event. #}
{% macro is_future_timestamp(occurred_at, received_at) -%}
    ({{ occurred_at }} > {{ dbt.dateadd('hour', var('raw__future_tolerance_hours'), received_at) }})
{%- endmacro %}
