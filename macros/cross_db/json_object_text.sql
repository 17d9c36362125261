{# A JSON object as text from pairs [key, expression]: each value as a JSON string, a pair
   whose value is null left out ({} when all are). For vendors that land an event's
   properties or a profile's traits as columns (Klaviyo via Fivetran) while the contract
   wants one JSON text. #}
{% macro json_object_text(pairs) -%}
    concat('{', concat_ws(','
        {%- for key, expr in pairs %},
        case
            when {{ expr }} is not null
                then concat('"{{ key }}":', {{ json_string_text('cast(' ~ expr ~ ' as ' ~ dbt.type_string() ~ ')') }})
        end
        {%- endfor %}
    ), '}')
{%- endmacro %}

{# A text value as a JSON string literal (quoted, escaped). #}
{% macro json_string_text(expr) -%}
    {{ return(adapter.dispatch('json_string_text', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__json_string_text(expr) -%}
    cast(to_json({{ expr }}) as varchar)
{%- endmacro %}

{% macro postgres__json_string_text(expr) -%}
    cast(to_json({{ expr }}) as text)
{%- endmacro %}

{# Spark writes JSON only of structs, maps and arrays: the one-element array's text, without
   its brackets. #}
{% macro spark__json_string_text(expr) -%}
    regexp_extract(to_json(array({{ expr }})), '^\\[(.*)\\]$', 1)
{%- endmacro %}
