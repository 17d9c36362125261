{# The deliverable form of an email: trimmed and lower-cased, null when empty or when it is
   not a well-formed address (macros/quality/is_valid_email.sql). #}
{% macro normalize_email(expr) -%}
    case
        when {{ is_valid_email('lower(trim(' ~ expr ~ '))') }}
            then lower(trim({{ expr }}))
    end
{%- endmacro %}
