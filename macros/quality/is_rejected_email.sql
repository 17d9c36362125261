{# True when a row gave an email (not missing, not a placeholder) that is not a well-formed
   address: staging keeps the row, known by its other identifiers, without the email
   (normalize_email is null), and report_hygiene counts such rows, so a bad address in a CRM
   export is neither lost silently nor left to fail the contact checks. #}
{% macro is_rejected_email(raw_expr) -%}
    (not {{ is_missing_identifier(raw_expr) }} and {{ normalize_email(raw_expr) }} is null)
{%- endmacro %}
