{# The roles that may read the public marts: BI users (var grants__reader_roles) and the
   reverse-ETL syncs (var grants__sync_roles), which read what they send. #}
{% macro marts_reader_roles() -%}
    {{ return(var('grants__reader_roles', []) + var('grants__sync_roles', [])) }}
{%- endmacro %}

{# Post-hook of the public marts: on PostgreSQL, lets the reader roles select the relation.
   Nothing else is granted, so raw, staging, intermediate and quarantine data stay out of
   their reach. Tables are rebuilt on each run, so a role taken off the list loses access at
   the next build. #}
{% macro grant_reader_access() -%}
    {%- set roles = marts_reader_roles() -%}
    {%- if target.type == 'postgres' and roles -%}
        {%- for role in roles %}
            grant select on {{ this }} to {{ adapter.quote(role) }};
        {%- endfor %}
    {%- else -%}
        select 1 as no_grants_on_this_target
    {%- endif -%}
{%- endmacro %}

{# on-run-end, on PostgreSQL: the reader roles may use the marts schema (one statement per
   run: parallel grants on one schema collide in the catalog), and the sync roles keep their
   delivery state in schema sync_state, the only place they can write: the build creates it
   and its tables (sync_state_ddl, the one definition the syncs also use), and grants them
   select, insert, update, delete on its tables, now and later ones (default privileges),
   and create for their scratch tables. The sync roles also read the quality gates' verdict
   (schema quality, written by `audience check`): they must not send data whose checks
   failed. #}
{% macro grant_reader_schema_usage() -%}
    {%- set statements = [] -%}
    {%- if target.type == 'postgres' and execute -%}
        {%- if adapter.check_schema_exists(target.database, 'marts') -%}
            {%- for role in marts_reader_roles() -%}
                {%- do statements.append('grant usage on schema marts to ' ~ adapter.quote(role)) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if var('grants__sync_roles', []) -%}
            {%- for statement in sync_state_ddl().split(';') if statement.strip() -%}
                {%- do statements.append(statement.strip()) -%}
            {%- endfor -%}
            {%- for role in var('grants__sync_roles', []) -%}
                {%- do statements.append('grant usage, create on schema sync_state to ' ~ adapter.quote(role)) -%}
                {%- do statements.append('grant select, insert, update, delete on all tables in schema sync_state to ' ~ adapter.quote(role)) -%}
                {%- do statements.append('alter default privileges in schema sync_state grant select, insert, update, delete on tables to ' ~ adapter.quote(role)) -%}
            {%- endfor -%}
            {%- do statements.append('create schema if not exists quality') -%}
            {%- for role in var('grants__sync_roles', []) -%}
                {%- do statements.append('grant usage on schema quality to ' ~ adapter.quote(role)) -%}
                {%- do statements.append('grant select on all tables in schema quality to ' ~ adapter.quote(role)) -%}
                {%- do statements.append('alter default privileges in schema quality grant select on tables to ' ~ adapter.quote(role)) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if statements -%}
        {{ statements | join(';\n') }}
    {%- else -%}
        select 1 as no_grants_on_this_target
    {%- endif -%}
{%- endmacro %}
