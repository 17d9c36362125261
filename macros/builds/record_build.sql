{# on-run-end of `dbt build` and `dbt run`: one row per invocation in quality.dbt_builds
   (build_id = invocation_id, the as_of, when it started and finished, and whether every
   node succeeded), beside the check runs that judge it. The marts carry the same build_id,
   so `audience check` and the syncs can tell which build they are looking at. Spark runs
   no quality gates or syncs: nothing is recorded there. #}
{% macro record_build() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] and target.type != 'spark' -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
        {%- set finished_at = modules.datetime.datetime.now(modules.pytz.utc) -%}
        create schema if not exists quality;
        create table if not exists quality.dbt_builds (
            build_id {{ dbt.type_string() }},
            command {{ dbt.type_string() }},
            as_of {{ dbt.type_timestamp() }},
            started_at {{ dbt.type_timestamp() }},
            finished_at {{ dbt.type_timestamp() }},
            nodes {{ dbt.type_int() }},
            failed_nodes {{ dbt.type_int() }},
            success boolean
        );
        insert into quality.dbt_builds values (
            {{ build_id() }},
            '{{ flags.WHICH }}',
            {{ as_of() }},
            cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}),
            cast('{{ finished_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}),
            {{ results | length }},
            {{ failed | length }},
            {{ 'true' if failed | length == 0 else 'false' }}
        )
    {%- else -%}
        select 1 as no_build_to_record
    {%- endif -%}
{%- endmacro %}
