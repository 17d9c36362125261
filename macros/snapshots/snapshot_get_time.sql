{# Snapshots record history in as_of time, not wall-clock time: a membership that starts in
   the build as of D is valid from D, and one that ends is valid to D. So backfills and
   replays write the same history as the daily builds did. (dbt_project.yml puts this
   project first in the search order of dbt's own macros.) #}
{% macro default__snapshot_get_time() -%}
    {{ as_of() }}
{%- endmacro %}

{% macro duckdb__snapshot_get_time() -%}
    {{ as_of() }}
{%- endmacro %}

{% macro postgres__snapshot_get_time() -%}
    {{ as_of() }}
{%- endmacro %}

{% macro spark__snapshot_get_time() -%}
    {{ as_of() }}
{%- endmacro %}
