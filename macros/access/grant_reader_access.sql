{# Post-hook of the public marts: on PostgreSQL, lets the reader roles (var
   grants__reader_roles: BI users and the sync role, which reads what it sends) select the
   relation. Nothing else is granted, so raw, staging, intermediate and quarantine data stay
   out of their reach. Tables are rebuilt on each run, so a role taken off the list loses
   access at the next build. #}
{% macro grant_reader_access() -%}
    {%- set roles = var('grants__reader_roles', []) -%}
    {%- if target.type == 'postgres' and roles -%}
        {%- for role in roles %}
            grant select on {{ this }} to {{ adapter.quote(role) }};
        {%- endfor %}
    {%- else -%}
        select 1 as no_grants_on_this_target
    {%- endif -%}
{%- endmacro %}

{# on-run-end: the reader roles may use the marts schema (one statement per run, since
   parallel grants on one schema collide in PostgreSQL's catalog). #}
{% macro grant_reader_schema_usage() -%}
    {%- set roles = var('grants__reader_roles', []) -%}
    {%- if target.type == 'postgres' and roles and execute
        and adapter.check_schema_exists(target.database, 'marts') -%}
        {%- for role in roles %}
            grant usage on schema marts to {{ adapter.quote(role) }};
        {%- endfor %}
    {%- else -%}
        select 1 as no_grants_on_this_target
    {%- endif -%}
{%- endmacro %}
