{# True when the text is a timestamp the raw contract accepts: ISO 8601, a date with an
   optional time (up to microseconds) and an optional zone (Z, a +hh[:mm] offset up to 14
   hours, or " UTC" / " GMT"), in a year from var raw__min_timestamp_year to
   raw__max_timestamp_year (as written), letters in any case. The engines' own parsers accept
   more, and not the same: PostgreSQL reads 'now', 'today', 'yesterday', 'tomorrow', 'epoch',
   'infinity', '20260101', 'June 1, 2026' and '09:00:00GMT'; DuckDB reads '2026-01-01 (BC)';
   both read 'epoch' and '-infinity'. Checking the text first (as staging parses it:
   trimmed, upper-cased) makes every engine accept and refuse the same values, none of them
   relative to the wall clock. #}
{% macro is_timestamp_text(expr) -%}
    {%- set shape = '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}'
        ~ '([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?'
        ~ '(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?| UTC| GMT)?)?$' -%}
    {%- set min_year = '%04d' % (var('raw__min_timestamp_year') | int) -%}
    {%- set max_year = '%04d' % (var('raw__max_timestamp_year') | int) -%}
    (
        {{ matches_regex('upper(trim(' ~ expr ~ '))', shape) }}
        and substring(trim({{ expr }}), 1, 4) between '{{ min_year }}' and '{{ max_year }}'
    )
{%- endmacro %}
