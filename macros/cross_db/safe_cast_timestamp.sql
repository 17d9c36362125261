{# Parses timestamp text of the raw contract (is_timestamp_text) into a UTC timestamp without
   time zone, or null when the text is not one: bad timestamps become quarantine rows, not
   failed builds. ISO 8601 text without an offset is read as UTC; an epoch number (seconds,
   milliseconds or microseconds, told apart by its digits) is UTC. Only text of the
   contract's shapes and years reaches the engine's parser, ISO text trimmed and upper-cased
   (DuckDB reads neither 't' nor 'z'), so every engine accepts the same values. #}
{% macro safe_cast_timestamp(expr) -%}
    case
        when {{ is_iso_timestamp_text(expr) }}
            then {{ adapter.dispatch('safe_cast_timestamp', 'audience')('upper(trim(' ~ expr ~ '))') }}
        when {{ is_epoch_timestamp_text(expr) }}
            then {{ adapter.dispatch('timestamp_from_epoch_micros', 'audience')(epoch_micros(expr)) }}
    end
{%- endmacro %}

{% macro default__safe_cast_timestamp(expr) -%}
    cast(timezone('UTC', try_cast(nullif(trim({{ expr }}), '') as timestamptz)) as timestamp)
{%- endmacro %}

{% macro postgres__safe_cast_timestamp(expr) -%}
    ({{ target.schema }}.audience_try_timestamptz({{ expr }}) at time zone 'UTC')
{%- endmacro %}

{# ANSI mode is off (dbt-spark sets it) and the session is in UTC: ISO-8601 text with an
   offset becomes its UTC instant, text without one is read as UTC. #}
{% macro spark__safe_cast_timestamp(expr) -%}
    try_cast(nullif(trim({{ expr }}), '') as timestamp)
{%- endmacro %}

{# The UTC timestamp (without time zone) `micros` microseconds after 1970-01-01 00:00:00. #}
{% macro default__timestamp_from_epoch_micros(micros) -%}
    make_timestamp({{ micros }})
{%- endmacro %}

{# whole seconds and the microseconds left, so no step goes through a floating-point number
   that could not hold it #}
{% macro postgres__timestamp_from_epoch_micros(micros) -%}
    (
        timestamp '1970-01-01 00:00:00'
        + (({{ micros }}) / 1000000) * interval '1 second'
        + (({{ micros }}) % 1000000) * interval '1 microsecond'
    )
{%- endmacro %}

{# the session is in UTC (see spark__safe_cast_timestamp) #}
{% macro spark__timestamp_from_epoch_micros(micros) -%}
    timestamp_micros({{ micros }})
{%- endmacro %}
