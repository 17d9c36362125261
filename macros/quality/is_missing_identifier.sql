{# True when an identifier is absent or only a placeholder ('null', 'anonymous', ...; var
   identity__placeholder_values): such a value identifies nobody. #}
{% macro is_missing_identifier(expr) -%}
    ({{ expr }} is null or {{ is_placeholder_identifier(expr) }})
{%- endmacro %}
