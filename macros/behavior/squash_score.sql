{# Squashes non-negative points onto 0-100 (100 * (1 - e^(-points / scale))): the first points
   count most, a score never passes 100, and `scale` points give 63. Negative totals are 0. #}
{% macro squash_score(points, scale) -%}
    {{ round_to('100 * (1 - exp(-1.0 * greatest(' ~ points ~ ', 0) / ' ~ scale ~ '))', 1) }}
{%- endmacro %}
