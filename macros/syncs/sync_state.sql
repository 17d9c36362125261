{# The reverse-ETL syncs' delivery state (schema sync_state): the one definition of its
   tables. The build runs it on PostgreSQL when sync roles are named (on-run-end,
   grant_reader_schema_usage), so a sync role needs no CREATE on the database; the syncs
   (src/audience/syncs/state.py, ensure_state) render this file with plain Jinja and run only
   the statements whose objects are missing. Plain SQL only: no dbt functions here.

   delivered: what each destination last acknowledged, by record key
   rejections: records a destination refused, with its reason and how many times in a row it
   refused that payload: retried next run until max_attempts, then dead-lettered
   (dead_lettered_at): held back until its payload changes or the row is deleted
   sync_runs: one row per run
   crm_pulls: the watermarks of `audience pull-crm`
   in_flight: records sent (or about to be) with an Idempotency-Key and not yet
     acknowledged: a later run re-sends them as they were, with the same key
   files: the files a file destination wrote, named only once written (rename done) #}
{% macro sync_state_ddl() -%}
create schema if not exists sync_state;
create table if not exists sync_state.delivered (
    destination varchar not null,
    record_key varchar not null,
    audience_key varchar,
    payload_hash varchar,
    payload varchar,
    delivered_at timestamp,
    run_id varchar,
    primary key (destination, record_key)
);
create table if not exists sync_state.rejections (
    destination varchar,
    record_key varchar,
    op varchar,
    reason varchar,
    run_id varchar,
    rejected_at timestamp
);
alter table sync_state.rejections add column if not exists payload_hash varchar;
alter table sync_state.rejections add column if not exists attempts integer;
alter table sync_state.rejections add column if not exists dead_lettered_at timestamp;
create table if not exists sync_state.sync_runs (
    run_id varchar,
    destination varchar,
    as_of timestamp,
    started_at timestamp,
    finished_at timestamp,
    status varchar,
    dry_run boolean,
    added integer,
    changed integer,
    removed integer,
    failed integer,
    seconds double precision,
    message varchar,
    build_id varchar
);
alter table sync_state.sync_runs add column if not exists build_id varchar;
create table if not exists sync_state.crm_pulls (
    destination varchar,
    watermark timestamp,
    pulled integer,
    pulled_at timestamp
);
create table if not exists sync_state.in_flight (
    destination varchar not null,
    record_key varchar not null,
    idempotency_key varchar not null,
    op varchar,
    audience_key varchar,
    payload_hash varchar,
    payload varchar,
    run_id varchar,
    marked_at timestamp,
    primary key (destination, record_key)
);
create table if not exists sync_state.files (
    destination varchar not null,
    audience_key varchar not null,
    platform varchar not null,
    as_of timestamp not null,
    sequence integer not null,
    file_name varchar not null,
    records integer,
    sha256 varchar,
    run_id varchar,
    written_at timestamp,
    primary key (destination, audience_key, platform, as_of, sequence)
)
{%- endmacro %}
