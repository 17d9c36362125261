{# One branch of the identity evidence: rows of `relation` that tie identifier `column_a`
   to `column_b` under `rule`; `type_a` and `type_b` are SQL expressions for their types
   (usually quoted literals). #}
{% macro link_evidence(rule, relation, type_a, column_a, type_b, column_b, seen_at, where='true') -%}
    select
        '{{ rule }}' as link_rule,
        {{ type_a }} as type_a,
        {{ column_a }} as identifier_a,
        {{ type_b }} as type_b,
        {{ column_b }} as identifier_b,
        {{ seen_at }} as seen_at
    from {{ relation }}
    where {{ column_a }} is not null and {{ column_b }} is not null and {{ where }}
{%- endmacro %}
