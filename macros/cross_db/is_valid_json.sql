{# True when the text is well-formed JSON. #}
{% macro is_valid_json(expr) -%}
    {{ return(adapter.dispatch('is_valid_json', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__is_valid_json(expr) -%}
    coalesce(json_valid({{ expr }}), false)
{%- endmacro %}

{% macro postgres__is_valid_json(expr) -%}
    ({{ target.schema }}.audience_try_jsonb({{ expr }}) is not null)
{%- endmacro %}

{% macro spark__is_valid_json(expr) -%}
    (try_parse_json({{ expr }}) is not null)
{%- endmacro %}
