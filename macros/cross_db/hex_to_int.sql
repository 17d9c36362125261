{# A text of hexadecimal digits (at most 15) as a bigint: the same number on every engine. #}
{% macro hex_to_int(expr) -%}
    {{ return(adapter.dispatch('hex_to_int', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__hex_to_int(expr) -%}
    cast(('0x' || {{ expr }}) as bigint)
{%- endmacro %}

{% macro postgres__hex_to_int(expr) -%}
    cast(cast(('x' || lpad({{ expr }}, 16, '0')) as bit(64)) as bigint)
{%- endmacro %}

{% macro spark__hex_to_int(expr) -%}
    cast(conv({{ expr }}, 16, 10) as bigint)
{%- endmacro %}
