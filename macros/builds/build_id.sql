{# The id of the dbt invocation building this relation (dbt's invocation_id). The marts the
   checks and syncs read carry it on every row, so a verdict names the one build it judged
   and a rebuild that was never checked cannot borrow an earlier build's verdict. #}
{% macro build_id() -%}
    cast('{{ invocation_id }}' as {{ dbt.type_string() }})
{%- endmacro %}
