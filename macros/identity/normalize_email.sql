{# The deliverable form of an email: trimmed and lower-cased, null when empty or when it is
   not shaped like an address. #}
{% macro normalize_email(expr) -%}
    case
        when lower(trim({{ expr }})) like '%_@_%._%' and lower(trim({{ expr }})) not like '% %'
            then lower(trim({{ expr }}))
    end
{%- endmacro %}
