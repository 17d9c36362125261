{# PostgreSQL has no try_cast: two small functions let staging turn bad timestamps and bad
   JSON into nulls (and so into quarantine rows) instead of failing the build. Run from
   on-run-start; other adapters need nothing. safe_cast_timestamp calls the timestamp one only
   on text of the contract's shape (is_timestamp_text): PostgreSQL's own input also reads
   'now', 'today', 'epoch', 'infinity' and more, which no other engine does. #}
{% macro create_udfs() -%}
    {{ return(adapter.dispatch('create_udfs', 'audience')()) }}
{%- endmacro %}

{% macro default__create_udfs() -%}
    select 1 as nothing_to_create
{%- endmacro %}

{% macro postgres__create_udfs() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.audience_try_timestamptz(value text)
    returns timestamptz language plpgsql immutable set timezone to 'UTC' as $fn$
    begin
        if value is null or trim(value) = '' then return null; end if;
        return trim(value)::timestamptz;
    exception when others then return null;
    end $fn$;
    create or replace function {{ target.schema }}.audience_try_jsonb(value text)
    returns jsonb language plpgsql immutable as $fn$
    begin
        if value is null then return null; end if;
        return value::jsonb;
    exception when others then return null;
    end $fn$
{%- endmacro %}
