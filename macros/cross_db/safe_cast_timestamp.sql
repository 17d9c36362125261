{# Parses ISO-8601 text (with or without an offset) into a UTC timestamp without time zone,
   or null when the text does not parse: bad timestamps become quarantine rows, not failed
   builds. Text without an offset is read as UTC. Only text of the contract's shape and years
   (is_timestamp_text) reaches the engine's parser, trimmed and upper-cased (DuckDB reads
   neither 't' nor 'z'), so every engine accepts the same values. #}
{% macro safe_cast_timestamp(expr) -%}
    case
        when {{ is_timestamp_text(expr) }}
            then {{ adapter.dispatch('safe_cast_timestamp', 'audience')('upper(trim(' ~ expr ~ '))') }}
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
