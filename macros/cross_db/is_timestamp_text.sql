{# True when the text is a timestamp the raw contract accepts, in one of two forms:

   - ISO 8601: a date with an optional time (up to microseconds) and an optional zone (Z, a
     +hh[:mm] offset up to 14 hours, or " UTC" / " GMT"), in a year from var
     raw__min_timestamp_year to raw__max_timestamp_year (as written), letters in any case;
   - a Unix epoch number (UTC), told apart by its digits: seconds (9 or 10 digits, optionally
     with up to six decimals), milliseconds (12 or 13) or microseconds (15 or 16), no sign,
     no leading zero, in the same years. Any other count of digits (`20260601`) is not one.

   The engines' own parsers accept more, and not the same: PostgreSQL reads 'now', 'today',
   'yesterday', 'tomorrow', 'epoch', 'infinity', '20260101', 'June 1, 2026' and
   '09:00:00GMT'; DuckDB reads '2026-01-01 (BC)'; both read 'epoch' and '-infinity'. Checking
   the text first (as staging parses it: trimmed, upper-cased) makes every engine accept and
   refuse the same values, none of them relative to the wall clock. #}
{% macro is_timestamp_text(expr) -%}
    ({{ is_iso_timestamp_text(expr) }} or {{ is_epoch_timestamp_text(expr) }})
{%- endmacro %}

{% macro is_iso_timestamp_text(expr) -%}
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

{# An epoch number of the contract's forms, from the first instant of var
   raw__min_timestamp_year to the last of raw__max_timestamp_year. #}
{% macro is_epoch_timestamp_text(expr) -%}
    {%- set epoch = modules.datetime.datetime(1970, 1, 1) -%}
    {%- set first = modules.datetime.datetime(var('raw__min_timestamp_year') | int, 1, 1) - epoch -%}
    {%- set after = modules.datetime.datetime((var('raw__max_timestamp_year') | int) + 1, 1, 1) - epoch -%}
    (
        {{ epoch_micros(expr) }} >= {{ first.days * 86400000000 }}
        and {{ epoch_micros(expr) }} < {{ after.days * 86400000000 }}
    )
{%- endmacro %}

{# Microseconds since 1970-01-01 00:00:00 UTC of epoch text (see is_timestamp_text), or null
   when the text is not one of its forms. Exact: seconds with decimals go through a decimal,
   never a floating-point number. #}
{% macro epoch_micros(expr) -%}
    {%- set text = 'trim(' ~ expr ~ ')' -%}
    case
        when {{ matches_regex(text, '^[1-9][0-9]{8,9}([.][0-9]{1,6})?$') }}
            then cast(cast({{ text }} as decimal(22, 6)) * 1000000 as {{ dbt.type_bigint() }})
        when {{ matches_regex(text, '^[1-9][0-9]{11,12}$') }}
            then cast({{ text }} as {{ dbt.type_bigint() }}) * 1000
        when {{ matches_regex(text, '^[1-9][0-9]{14,15}$') }}
            then cast({{ text }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
