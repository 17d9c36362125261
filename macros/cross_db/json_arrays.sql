{# JSON arrays held as text (a HubSpot status change's subscriptions, the leads a Marketo
   merge took in): their length, and one element (or one key of it) by position. Text that
   is not a JSON array has no length and no elements. #}

{# The number of elements of a JSON array text; null when the text is not a JSON array. #}
{% macro json_array_length_text(expr) -%}
    {{ return(adapter.dispatch('json_array_length_text', 'audience')(expr)) }}
{%- endmacro %}

{% macro default__json_array_length_text(expr) -%}
    case
        when {{ is_valid_json(expr) }} and json_type({{ expr }}) = 'ARRAY'
            then cast(json_array_length({{ expr }}) as integer)
    end
{%- endmacro %}

{% macro postgres__json_array_length_text(expr) -%}
    case
        when jsonb_typeof({{ target.schema }}.audience_try_jsonb({{ expr }})) = 'array'
            then jsonb_array_length({{ target.schema }}.audience_try_jsonb({{ expr }}))
    end
{%- endmacro %}

{% macro spark__json_array_length_text(expr) -%}
    json_array_length({{ expr }})
{%- endmacro %}

{# The element at 0-based `position` (an integer expression) of a JSON array text, as text:
   the element itself, or its `key` when given (elements that are objects). #}
{% macro json_array_element_text(expr, position, key=none) -%}
    {{ return(adapter.dispatch('json_array_element_text', 'audience')(expr, position, key)) }}
{%- endmacro %}

{% macro default__json_array_element_text(expr, position, key) -%}
    case
        when {{ is_valid_json(expr) }} then json_extract_string(
            {{ expr }},
            '$[' || cast({{ position }} as varchar) || ']'{% if key %} || '.{{ key }}'{% endif %}
        )
    end
{%- endmacro %}

{% macro postgres__json_array_element_text(expr, position, key) -%}
    {%- if key -%}
        ({{ target.schema }}.audience_try_jsonb({{ expr }}) -> {{ position }} ->> '{{ key }}')
    {%- else -%}
        ({{ target.schema }}.audience_try_jsonb({{ expr }}) ->> {{ position }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_array_element_text(expr, position, key) -%}
    get_json_object(
        {{ expr }},
        concat('$[', cast({{ position }} as string), ']'{% if key %}, '.{{ key }}'{% endif %})
    )
{%- endmacro %}

{# The positions 0 to 999 as rows (column `slot`): joined on `slot < length` they turn each
   element of a JSON array into a row of its own. #}
{% macro json_array_positions() -%}
    {%- set digits -%}
        select 0 as digit
        {%- for d in range(1, 10) %} union all select {{ d }}{% endfor %}
    {%- endset -%}
    select units.digit + 10 * tens.digit + 100 * hundreds.digit as slot
    from ({{ digits }}) as units
    cross join ({{ digits }}) as tens
    cross join ({{ digits }}) as hundreds
{%- endmacro %}
