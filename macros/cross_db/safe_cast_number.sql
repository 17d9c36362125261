{# Casts text to a number, or null when it is not one. #}
{% macro safe_cast_number(expr, type='double') -%}
    {{ return(adapter.dispatch('safe_cast_number', 'audience')(expr, type)) }}
{%- endmacro %}

{% macro default__safe_cast_number(expr, type) -%}
    try_cast(nullif(trim({{ expr }}), '') as {{ type }})
{%- endmacro %}

{% macro postgres__safe_cast_number(expr, type) -%}
    case
        when trim({{ expr }}) ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            then cast(trim({{ expr }}) as {{ 'double precision' if type == 'double' else type }})
    end
{%- endmacro %}
