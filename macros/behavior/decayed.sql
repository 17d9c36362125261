{# `points` decayed by the age in days of `activity_date` at `reference_date`, with the
   engagement half-life (var engagement__half_life_days): worth half as much every half-life. #}
{% macro decayed(points, activity_date, reference_date) -%}
    ({{ points }} * power(
        0.5,
        {{ dbt.datediff(activity_date, reference_date, 'day') }} * 1.0 / {{ var('engagement__half_life_days') }}
    ))
{%- endmacro %}
