{# The one definition of a well-formed email address, used by staging (normalize_email keeps
   only these) and by the contact_validity check (expectations/batches/check_contacts.sql),
   so staging never lets through an address the check then fails on: something before a
   single @, a dot in the domain with something on both sides, and no space, tab or line
   break. `expr` is the trimmed, lower-cased text. #}
{% macro is_valid_email(expr) -%}
    (
        {{ expr }} like '%_@_%._%'
        and {{ expr }} not like '%@%@%'
        and {{ expr }} not like '% %'
        and {{ dbt.position('chr(9)', expr) }} = 0
        and {{ dbt.position('chr(10)', expr) }} = 0
        and {{ dbt.position('chr(13)', expr) }} = 0
    )
{%- endmacro %}
