{# Reading vendors' nested values, landed as JSON text (or turned into JSON text by
   vendor_table when the warehouse holds them typed), the same way on every engine. Text that
   is not JSON, or not of the shape asked for, reads as null. #}

{# The text of `key` in the first object of a JSON array: Snowplow's contexts hold one entity
   each (`[{"id": "..."}]`). #}
{% macro json_array_first_text(expr, key) -%}
    {{ return(adapter.dispatch('json_array_first_text', 'audience')(expr, key)) }}
{%- endmacro %}

{% macro default__json_array_first_text(expr, key) -%}
    case when {{ is_valid_json(expr) }} then json_extract_string({{ expr }}, '$[0].{{ key }}') end
{%- endmacro %}

{% macro postgres__json_array_first_text(expr, key) -%}
    ({{ target.schema }}.audience_try_jsonb({{ expr }}) -> 0 ->> '{{ key }}')
{%- endmacro %}

{% macro spark__json_array_first_text(expr, key) -%}
    get_json_object({{ expr }}, '$[0].{{ key }}')
{%- endmacro %}

{# GA4's event_params (and user_properties): an array of {"key": ..., "value":
   {"string_value", "int_value", "float_value", "double_value"}}. The value of the element
   whose key is `name`, as text (whichever of the four is set, as the JSON writes it). #}
{% macro json_array_param(expr, name) -%}
    {{ return(adapter.dispatch('json_array_param', 'audience')(expr, name)) }}
{%- endmacro %}

{% macro default__json_array_param(expr, name) -%}
    (
        select {{ _duckdb_param_value('param') }}
        from (
            select unnest({{ _duckdb_json_array(expr) }}) as param
        ) as params
        where json_extract_string(param, '$.key') = '{{ name }}'
        limit 1
    )
{%- endmacro %}

{% macro postgres__json_array_param(expr, name) -%}
    (
        select {{ _postgres_param_value('param') }}
        from jsonb_array_elements({{ _postgres_json_array(expr) }}) as params (param)
        where param ->> 'key' = '{{ name }}'
        limit 1
    )
{%- endmacro %}

{% macro spark__json_array_param(expr, name) -%}
    {{ _spark_param_value('filter(' ~ _spark_params(expr) ~ ', p -> p.key = \'' ~ name ~ '\')[0].value') }}
{%- endmacro %}

{# The same array as one JSON object of text values, {"page_location": "...",
   "ga_session_id": "1717386934"} ('{}' for an empty array): a GA4 event's parameters as
   contract `properties`. #}
{% macro json_array_params_object(expr) -%}
    {{ return(adapter.dispatch('json_array_params_object', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__json_array_params_object(expr) -%}
    case when {{ is_valid_json(expr) }} then coalesce((
        select cast(json_group_object(json_extract_string(param, '$.key'), {{ _duckdb_param_value('param') }}) as varchar)
        from (select unnest({{ _duckdb_json_array(expr) }}) as param) as params
        where json_extract_string(param, '$.key') is not null
    ), '{}') end
{%- endmacro %}

{% macro postgres__json_array_params_object(expr) -%}
    case when {{ _postgres_json_array(expr) }} is not null then coalesce((
        select cast(jsonb_object_agg(param ->> 'key', {{ _postgres_param_value('param') }}) as text)
        from jsonb_array_elements({{ _postgres_json_array(expr) }}) as params (param)
        where param ->> 'key' is not null
    ), '{}') end
{%- endmacro %}

{% macro spark__json_array_params_object(expr) -%}
    to_json(map_from_entries(transform(
        filter({{ _spark_params(expr) }}, p -> p.key is not null),
        p -> struct(p.key, {{ _spark_param_value('p.value') }})
    )))
{%- endmacro %}

{# json_extract fails on text that is not JSON, even in a branch a case leaves out. #}
{% macro _duckdb_json_array(expr) -%}
    json_extract(case when {{ is_valid_json(expr) }} then {{ expr }} end, '$[*]')
{%- endmacro %}

{% macro _duckdb_param_value(param) -%}
    coalesce(
        json_extract_string({{ param }}, '$.value.string_value'),
        json_extract_string({{ param }}, '$.value.int_value'),
        json_extract_string({{ param }}, '$.value.double_value'),
        json_extract_string({{ param }}, '$.value.float_value')
    )
{%- endmacro %}

{% macro _postgres_json_array(expr) -%}
    case
        when jsonb_typeof({{ target.schema }}.audience_try_jsonb({{ expr }})) = 'array'
            then {{ target.schema }}.audience_try_jsonb({{ expr }})
    end
{%- endmacro %}

{% macro _postgres_param_value(param) -%}
    coalesce(
        {{ param }} -> 'value' ->> 'string_value',
        {{ param }} -> 'value' ->> 'int_value',
        {{ param }} -> 'value' ->> 'double_value',
        {{ param }} -> 'value' ->> 'float_value'
    )
{%- endmacro %}

{% macro _spark_params(expr) -%}
    from_json({{ expr }}, 'array<struct<key:string,value:struct<string_value:string,int_value:string,double_value:string,float_value:string>>>')
{%- endmacro %}

{% macro _spark_param_value(value) -%}
    coalesce({{ value }}.string_value, {{ value }}.int_value, {{ value }}.double_value, {{ value }}.float_value)
{%- endmacro %}
