{# A JSON object as text from (key, text expression) pairs, e.g.
   json_object_text([('revenue', 'amount'), ('quantity', 'qty')]): the values stay JSON
   strings (every landed value is text; staging reads numbers from them), a null value is
   JSON null (Spark's to_json leaves null keys out). The keys keep the order given, but on
   PostgreSQL for objects of more than 50 keys (jsonb orders its keys). #}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'audience')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_text(pairs) -%}
    cast(json_object(
        {%- for key, value in pairs %}
            '{{ key }}', {{ value }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{# json_build_object takes at most 100 arguments: objects of more than 50 keys are built in
   parts and concatenated as jsonb. #}
{% macro postgres__json_object_text(pairs) -%}
    {%- if pairs | length <= 50 -%}
    cast(json_build_object(
        {%- for key, value in pairs %}
            '{{ key }}', cast({{ value }} as text){{ ',' if not loop.last }}
        {%- endfor %}
    ) as text)
    {%- else -%}
    cast((
        {%- for part in pairs | batch(50) %}
            jsonb_build_object(
                {%- for key, value in part %}
                    '{{ key }}', cast({{ value }} as text){{ ',' if not loop.last }}
                {%- endfor %}
            ){{ ' ||' if not loop.last }}
        {%- endfor %}
    ) as text)
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_object_text(pairs) -%}
    to_json(named_struct(
        {%- for key, value in pairs %}
            '{{ key }}', cast({{ value }} as string){{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
