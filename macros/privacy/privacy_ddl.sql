{# The privacy requests (schema privacy): the one definition of their tables. Written by the
   CLI (`audience forget`, `audience suppress`: src/audience/consent.py renders this file
   with plain Jinja and the default types), read by the build as sources
   (models/staging/privacy/_privacy__sources.yml); the build creates them when missing
   (on-run-start, create_privacy_tables), so a warehouse nobody made a request in builds.
   No dbt functions here: the types come in as arguments.

   deletion_requests: one row per identifier of a person who asked to be forgotten
   manual_suppressions: one row per identifier and channel a person may not be reached on #}
{% macro privacy_ddl(string_type='varchar', timestamp_type='timestamp') -%}
create schema if not exists privacy;
create table if not exists privacy.deletion_requests (
    request_id {{ string_type }},
    requested_as {{ string_type }},
    identifier_type {{ string_type }},
    identifier {{ string_type }},
    requested_at {{ timestamp_type }}
);
create table if not exists privacy.manual_suppressions (
    identifier_type {{ string_type }},
    identifier {{ string_type }},
    channel {{ string_type }},
    note {{ string_type }},
    suppressed_at {{ timestamp_type }}
)
{%- endmacro %}

{# on-run-start: the privacy tables, one statement at a time (Spark takes one at a time). #}
{% macro create_privacy_tables() -%}
    {%- if execute -%}
        {%- set ddl = privacy_ddl(dbt.type_string(), dbt.type_timestamp()) -%}
        {%- for statement in ddl.split(';') if statement.strip() -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1 as privacy_tables_created
{%- endmacro %}
