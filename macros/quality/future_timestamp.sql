{# True when a row claims to have happened later than it reached us (arrived_at), beyond the
   clock-skew tolerance (var raw__future_tolerance_hours): a client clock in the future, not
   an event. A row without a received_at is taken as received when it happened, so only a
   received_at can show it in the future. #}
{% macro is_future_timestamp(occurred_at, received_at) -%}
    ({{ occurred_at }} > {{ dbt.dateadd('hour', var('raw__future_tolerance_hours'), arrived_at(received_at, occurred_at)) }})
{%- endmacro %}
