"""Least privilege on PostgreSQL: a reader role sees the public marts and nothing else."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg2
import pytest
from warehouses import FIXTURES, environment, load_postgres, postgres_database

from audience.checks import (
    CheckResult,
    CheckRun,
    QualityGateError,
    current_build,
    load_suites,
    record,
    require_passing_checks,
)
from audience.dbt import run_dbt
from audience.devservers import ApiState, Server
from audience.warehouse import PostgresWarehouse, postgres_params

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def roles(tmp_path_factory):
    """A BI reader and a sync login role on the cluster, granted by the build, then dropped."""
    suffix = uuid.uuid4().hex[:8]
    role, sync_role = f"audience_reader_{suffix}", f"audience_sync_{suffix}"
    admin = psycopg2.connect(**postgres_params())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create role "{role}" login')
        cur.execute(f'create role "{sync_role}" login')
    try:
        with postgres_database() as database, environment(PGDATABASE=database):
            load_postgres(database, FIXTURES / "tiny")
            run_dbt(
                ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
                target="postgres",
                as_of=datetime(2026, 6, 30),
                extra_vars={"grants__reader_roles": [role], "grants__sync_roles": [sync_role]},
            )
            yield role, sync_role, database
            with admin.cursor() as cur:
                # the sync role's own state tables go with the database
                cur.execute(f'reassign owned by "{sync_role}" to current_user')
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop role if exists "{role}"')
            cur.execute(f'drop role if exists "{sync_role}"')
        admin.close()


@pytest.fixture(scope="module")
def reader(roles):
    role, _, database = roles
    return role, database


def query_as(role: str, database: str, sql: str) -> list[tuple]:
    params = {**postgres_params(database), "user": role, "password": ""}
    con = psycopg2.connect(**params)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            rows = list(cur.fetchall()) if cur.description else []
        con.commit()
        return rows
    finally:
        con.close()


@pytest.mark.parametrize(
    "relation",
    ["marts.contacts", "marts.segment_membership", "marts.segments", "marts.report_hygiene"],
)
def test_reader_selects_the_public_marts(reader, relation):
    role, database = reader
    assert query_as(role, database, f"select count(*) from {relation}")[0][0] >= 0


@pytest.mark.parametrize(
    "relation",
    [
        "raw.pages",
        "raw.crm_contacts",
        "staging.stg_crm__contacts",
        "staging.base_segment__pages",
        "intermediate.int_contact_profiles",
        "segments.customer",
        "snapshots.segment_membership_snapshot",
    ],
)
def test_reader_cannot_read_raw_staging_or_internal_models(reader, relation):
    role, database = reader
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query_as(role, database, f"select count(*) from {relation}")


def test_reader_cannot_write_the_marts(reader):
    role, database = reader
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query_as(role, database, "delete from marts.contacts returning contact_key")


def test_membership_lookups_are_indexed(reader):
    _, database = reader
    warehouse = PostgresWarehouse(database)
    try:
        indexes = warehouse.query(
            "select tablename, indexdef from pg_indexes where schemaname = 'marts'"
        )
    finally:
        warehouse.close()
    definitions = [f"{table}: {definition}" for table, definition in indexes]
    assert any("segment_membership" in d and "(contact_key)" in d for d in definitions)
    assert any("segment_membership" in d and "(segment_id)" in d for d in definitions)
    assert any("identity_map" in d and "UNIQUE" in d for d in definitions)


def test_sync_role_reads_the_marts_and_writes_only_its_state(roles):
    _, sync_role, database = roles
    assert query_as(sync_role, database, "select count(*) from marts.segment_membership")[0][0] > 0
    # the build made the state tables; the role writes them and may add scratch tables
    query_as(
        sync_role,
        database,
        "insert into sync_state.delivered (destination, record_key, payload_hash) "
        "values ('probe', 'k', 'h')",
    )
    assert query_as(
        sync_role, database, "select count(*) from sync_state.delivered where destination = 'probe'"
    ) == [(1,)]
    query_as(sync_role, database, "delete from sync_state.delivered where destination = 'probe'")
    query_as(sync_role, database, "create table sync_state.probe_scratch (x int)")
    for statement in (
        "create schema sneaky",
        "create table marts.sneaky (x int)",
        "delete from marts.segment_membership",
        "select count(*) from raw.identifies",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query_as(sync_role, database, statement)


def test_sync_role_reads_the_quality_verdict_and_cannot_forge_it(roles):
    _, sync_role, database = roles
    failed = CheckRun("run1", "postgres", "2026-06-30 00:00:00", "2026-06-30 00:05:00")
    failed.results = [
        CheckResult(
            "raw_volume",
            "expect_column_values_to_be_between",
            "row_count",
            "critical",
            False,
            "every provided raw table holds rows",
            "1 unexpected: source_table=segment.tracks",
        )
    ]
    owner = PostgresWarehouse(database)
    try:
        record(owner, failed)  # as `audience check` does, with the build's role
    finally:
        owner.close()
    with environment(PGUSER=sync_role, PGPASSWORD=""):
        warehouse = PostgresWarehouse(database)
        try:
            with pytest.raises(QualityGateError, match=r"holds rows.*segment\.tracks"):
                require_passing_checks(warehouse, "2026-06-30 00:00:00")
        finally:
            warehouse.close()
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query_as(
            sync_role,
            database,
            "insert into quality.check_runs (run_id, as_of, checked_at, success) "
            "values ('forged', '2026-06-30', '2026-06-30 01:00', true)",
        )


def test_sync_role_syncs_with_only_its_grants(roles, tmp_path, capsys):
    """`audience sync` connected as the sync role, with nothing but the build's grants:
    the state schema and tables are there, so the sync creates nothing the role may not;
    it reads the marts and the verdict, sends, and writes its rows of sync_state."""
    from audience.cli import main

    _, sync_role, database = roles
    owner = PostgresWarehouse(database)
    try:
        build = current_build(owner)
        passed = CheckRun(
            f"passed-{uuid.uuid4().hex[:8]}",
            "postgres",
            build.as_of,
            datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            build_id=build.build_id,
        )
        passed.results = [
            CheckResult(suite.name, "expect_it", None, "critical", True, suite.name, "")
            for suite in load_suites()
        ]
        record(owner, passed)  # as `audience check` does, with the build's role
    finally:
        owner.close()

    state = ApiState()
    server = Server(state)
    try:
        with environment(
            PGUSER=sync_role,
            PGPASSWORD="",
            PGDATABASE=database,
            AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"),
            AUDIENCE_AD_FILES_DIR=str(tmp_path / "ads"),
            AUDIENCE_LISTS_API_URL=server.url,
            AUDIENCE_LISTS_API_TOKEN="token-of-the-test",
        ):
            code = main(["sync", "ad_audiences", "marketing_lists", "--target", "postgres"])
    finally:
        server.close()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    runs = query_as(
        sync_role,
        database,
        "select destination, status, added from sync_state.sync_runs "
        "where destination in ('ad_audiences', 'marketing_lists') order by destination",
    )
    assert [(d, s) for d, s, _ in runs] == [
        ("ad_audiences", "success"),
        ("marketing_lists", "success"),
    ]
    assert all(added > 0 for _, _, added in runs)
    delivered = query_as(
        sync_role,
        database,
        "select destination, count(*) from sync_state.delivered group by destination "
        "order by destination",
    )
    assert dict(delivered) == {d: added for d, _, added in runs}
    assert (
        sum(len(members) for members in state.lists.values()) == dict(delivered)["marketing_lists"]
    )
    assert list((tmp_path / "ads").glob("*/*/*.csv"))  # <platform>/<audience>/<file>
    for relation in ("raw.identifies", "staging.stg_crm__contacts"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query_as(sync_role, database, f"select count(*) from {relation}")
