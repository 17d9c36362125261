{# on-run-start: history is written in as_of time, so a build older than the latest build
   the membership history holds (an out-of-order backfill) would write it backwards, and
   would first replace the marts with an older picture. Refuse it before anything runs. #}
{% macro assert_as_of_not_before_history() -%}
    {%- if execute -%}
        {%- set history = membership_snapshot_relation() -%}
        {%- if history is not none -%}
            {%- set later = run_query(
                "select count(*) from " ~ history ~ " where dbt_updated_at > " ~ as_of()
            ).columns[0].values()[0] | int -%}
            {%- if later > 0 -%}
                {{ exceptions.raise_compiler_error(
                    "Refusing to build as of " ~ var('as_of') ~ ": the membership history already "
                    ~ "holds history written by a later build. Build days in order; to rewrite the "
                    ~ "history from an earlier day, rebuild it with dbt snapshot --full-refresh."
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1 as as_of_checked
{%- endmacro %}
