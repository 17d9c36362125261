{# `dbt source freshness` measured the way the quality gates measure it: the age of the newest
   event a raw table holds as of var `as_of`, not of the wall clock, with the text column named
   by `loaded_at_field` parsed like staging parses it. Events stamped after `as_of` do not
   count, so a backfill as of a past day sees the data as it was then. The GX freshness suite
   (expectations/batches/check_raw_freshness.sql) reads the same columns and windows. #}
{% macro default__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max(loaded_at) as max_loaded_at,
            {{ as_of() }} as snapshotted_at
        from (
            select {{ safe_cast_timestamp(loaded_at_field) }} as loaded_at
            from {{ source }}
            {% if filter %}where {{ filter }}{% endif %}
        ) as parsed
        where loaded_at <= {{ as_of() }}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}
