{# Seconds since 1970-01-01 00:00 UTC of a timestamp (UTC, without zone), with the fraction. #}
{% macro epoch_seconds(expr) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds(expr) -%}
    (epoch_ms({{ expr }}) / 1000.0)
{%- endmacro %}

{% macro postgres__epoch_seconds(expr) -%}
    extract(epoch from {{ expr }})
{%- endmacro %}

{% macro spark__epoch_seconds(expr) -%}
    (unix_micros({{ expr }}) / 1000000.0)
{%- endmacro %}
