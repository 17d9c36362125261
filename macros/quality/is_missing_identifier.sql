{# True when an identifier is absent or only a placeholder ('null', 'anonymous', ...) listed
   as invalid in the blocked_identifiers seed: such a value identifies nobody. #}
{% macro is_missing_identifier(expr) -%}
    ({{ expr }} is null or lower({{ expr }}) in (
        select blocked_value from {{ ref('blocked_identifiers') }}
        where block_kind = 'invalid' and match_on = 'value'
    ))
{%- endmacro %}
