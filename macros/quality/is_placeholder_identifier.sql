{# True when an identifier is one of the placeholder values tracking libraries write when
   they have no id (var identity__placeholder_values, compared lower-cased). #}
{% macro is_placeholder_identifier(expr) -%}
    (lower(trim({{ expr }})) in (
        {%- for value in var('identity__placeholder_values') -%}
            '{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    ))
{%- endmacro %}
