{# Reads one top-level key of a JSON text as text (null when absent or not valid JSON). #}
{% macro json_extract_text(expr, key) -%}
    {{ return(adapter.dispatch('json_extract_text', 'audience')(expr, key)) }}
{%- endmacro %}

{% macro default__json_extract_text(expr, key) -%}
    case when {{ is_valid_json(expr) }} then json_extract_string({{ expr }}, '$.{{ key }}') end
{%- endmacro %}

{% macro postgres__json_extract_text(expr, key) -%}
    ({{ target.schema }}.audience_try_jsonb({{ expr }}) ->> '{{ key }}')
{%- endmacro %}

{% macro spark__json_extract_text(expr, key) -%}
    get_json_object({{ expr }}, '$.{{ key }}')
{%- endmacro %}
