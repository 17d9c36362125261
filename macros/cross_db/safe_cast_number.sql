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

{# Casts text to a bigint when it is a whole number, written as an integer or not ('50',
   '50.0', '5e1'), else null: exports and warehouses that type a count as a float write
   '50.0', which every engine then reads alike (a plain cast to bigint rounds on one engine
   and fails on another). #}
{% macro safe_cast_whole_number(expr) -%}
    {%- set number = safe_cast_number(expr) -%}
    case
        when {{ number }} = floor({{ number }}) and abs({{ number }}) < 1e15
            then cast({{ number }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
