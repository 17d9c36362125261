{# True when a date falls within the last `days` days of as_of: on or after the calendar day
   (UTC) of as_of minus `days`. Every behavioural window uses this one definition. #}
{% macro is_within_days(date_column, days) -%}
    ({{ date_column }} >= cast({{ dbt.dateadd('day', -1 * days, as_of()) }} as date))
{%- endmacro %}
