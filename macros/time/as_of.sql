{# The one instant every window is relative to (dbt var `as_of`, UTC). A build as of a past
   instant sees only what was known by then. Without the var (a plain `dbt build`, `dbt run
   -s contacts`), it is the moment dbt started, in UTC to the second: what `audience run`
   passes when not told otherwise, so a plain dbt command builds as of now like the CLI
   instead of as of a fixed past day the history has long passed. #}
{% macro as_of_text() -%}
    {%- set given = var("as_of", none) -%}
    {%- if given is none or given | string | trim == "" -%}
        {{- return(run_started_at.strftime("%Y-%m-%d %H:%M:%S")) -}}
    {%- endif -%}
    {{- return(given | string) -}}
{%- endmacro %}

{% macro as_of() -%}
    cast('{{ as_of_text() }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
