{# True when a row had happened and had reached the warehouse by `as_of` (arrived_at: its
   received_at, else when it happened): a build as of a past date must not count an event
   that arrived later (backfills and backtests stay honest). #}
{% macro known_by_as_of(occurred_at, received_at=none) -%}
    ({{ occurred_at }} <= {{ as_of() }}
    {%- if received_at is not none %} and {{ arrived_at(received_at, occurred_at) }} <= {{ as_of() }}{% endif -%})
{%- endmacro %}
