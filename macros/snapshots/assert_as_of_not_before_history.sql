{# on-run-start: on DuckDB and PostgreSQL a build may be as of any instant, before or equal to
   ones the history holds (macros/snapshots/history_instants.sql sets the value at that
   instant). Spark's snapshot materialization (spark_snapshot.sql) only appends, so there a
   build as of an instant the membership history already holds, or one before it, would
   write history backwards: refuse it before anything runs, and say what to do. #}
{% macro assert_as_of_not_before_history() -%}
    {%- if execute and target.type == 'spark' -%}
        {%- set history = membership_snapshot_relation() -%}
        {%- if history is not none and history_holds_instant_at_or_after_as_of(history) -%}
            {{ exceptions.raise_compiler_error(
                "Refusing to build as of " ~ as_of_text() ~ " on Spark: the membership history "
                ~ "already holds this instant or a later one, and Spark's snapshots only append. "
                ~ "Build as of a later instant (audience run --as-of ...), or run backfills and "
                ~ "reruns on DuckDB or PostgreSQL."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1 as as_of_checked
{%- endmacro %}
