{# True when the text matches the regular expression (anchor it with ^ and $ for a whole-string
   match). Each engine spells regex matching differently; keep patterns to the syntax all of
   them read alike (classes such as [0-9], {m,n}, no backslashes: Spark's string literals
   would eat them). #}
{% macro matches_regex(expr, pattern) -%}
    {{ return(adapter.dispatch('matches_regex', 'audience')(expr, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__matches_regex(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_regex(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}
