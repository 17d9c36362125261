{# A JSON object, as text, from named SQL values: pairs is a list of [key, expression] (text
   expressions; a key is a literal). A null value leaves its key out, on every engine alike,
   and no pairs make '{}'. Vendors that spread a JSON payload over columns (Segment's
   per-event tables, identify traits as columns) are packed back into one object with it.
   Key order and spacing are each engine's own: read the object with json_extract_text. #}
{% macro json_object_text(pairs) -%}
    {%- if not pairs -%}
        cast('{}' as {{ dbt.type_string() }})
    {%- else -%}
        {{ return(adapter.dispatch('json_object_text', 'audience')(pairs)) }}
    {%- endif -%}
{%- endmacro %}

{% macro _json_key(key) -%}
    '{{ key | replace("'", "''") }}'
{%- endmacro %}

{# DuckDB: merging the object into {} drops its null members (RFC 7396 merge patch). #}
{% macro default__json_object_text(pairs) -%}
    cast(json_merge_patch('{}', json_object(
        {%- for key, expr in pairs %}{{ _json_key(key) }}, {{ expr }}{{ ', ' if not loop.last }}{% endfor -%}
    )) as {{ dbt.type_string() }})
{%- endmacro %}

{# PostgreSQL: a function takes at most 100 arguments, so 50 pairs per jsonb_build_object,
   the parts joined with ||. #}
{% macro postgres__json_object_text(pairs) -%}
    cast(jsonb_strip_nulls(
        {%- for part in pairs | batch(50) %}
        jsonb_build_object(
            {%- for key, expr in part %}{{ _json_key(key) }}, {{ expr }}{{ ', ' if not loop.last }}{% endfor -%}
        ){{ ' ||' if not loop.last }}
        {%- endfor %}
    ) as text)
{%- endmacro %}

{# Spark: to_json leaves null fields out (spark.sql.jsonGenerator.ignoreNullFields). #}
{% macro spark__json_object_text(pairs) -%}
    to_json(named_struct(
        {%- for key, expr in pairs %}{{ _json_key(key) }}, {{ expr }}{{ ', ' if not loop.last }}{% endfor -%}
    ))
{%- endmacro %}
