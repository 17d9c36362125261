"""Gates that catch a broken build, on DuckDB and PostgreSQL: the verdict belongs to one dbt
build (a rebuild nobody checked is refused by the gate and by `audience sync`), a staging
collapse fails the staging_volume suite naming the table, a 44 % drop in contacts fails
mart_volume, and a CRM contact with a malformed email stays a contact without it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from warehouses import BuiltWarehouse, environment, postgres_database

from audience.checks import Build, CheckRun, QualityGateError, require_passing_checks, run_checks
from audience.cli import main
from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
#: models and snapshots only: the data tests run in the other integration modules
BUILD = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
#: CRM contacts whose only email is malformed (two @, an inner space)
BAD_EMAILS = {"crm-bad-email-1": "a@b@x.com", "crm-bad-email-2": "a b@x.com"}
CRM_HEADER = (
    "contact_id,email,first_name,last_name,job_title,persona,company_id,lifecycle_stage,"
    "owner_id,created_at,updated_at,firmographics_verified_at"
)


def settings(warehouse: BuiltWarehouse) -> dict[str, str]:
    if warehouse.target == "duckdb":
        return {"AUDIENCE_DUCKDB_PATH": str(warehouse.path)}
    return {"PGDATABASE": str(warehouse.database)}


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request, tmp_path_factory) -> Iterator[BuiltWarehouse]:
    """Generated data (400 people) plus two CRM contacts with malformed emails, built the
    day before AS_OF and on AS_OF (so the marts have a previous build), then checked."""
    from audience.generator import generate

    root = tmp_path_factory.mktemp(f"build-gates-{request.param}")
    generate(root / "data", people=400, seed=11, as_of=AS_OF)
    extra = root / "extra"
    extra.mkdir()
    rows = [
        f"{crm_id},{email},Bad,Email,,,,lead,,2026-06-01T00:00:00Z,2026-06-01T00:00:00Z,"
        for crm_id, email in BAD_EMAILS.items()
    ]
    (extra / "crm_contacts.csv").write_text("\n".join([CRM_HEADER, *rows]) + "\n")

    def build(**where: str) -> BuiltWarehouse:
        # loaded once: a re-load of the same files is another story (its events would be
        # quarantined as duplicates of those the first build accepted)
        with environment(**where, AUDIENCE_OUTPUT_DIR=str(root / "output")):
            path = Path(where["AUDIENCE_DUCKDB_PATH"]) if "AUDIENCE_DUCKDB_PATH" in where else None
            database = where.get("PGDATABASE")
            warehouse = DuckDBWarehouse(path) if path else PostgresWarehouse(database)
            try:
                load_dir(root / "data", warehouse)
                load_dir(extra, warehouse)
            finally:
                warehouse.close()
            for as_of in (AS_OF - timedelta(days=1), AS_OF):
                run_dbt(BUILD, target=request.param, as_of=as_of)
        return BuiltWarehouse(request.param, root / "data", AS_OF, path=path, database=database)

    if request.param == "duckdb":
        path = root / "gates.duckdb"
        with environment(AUDIENCE_DUCKDB_PATH=str(path)):
            yield build(AUDIENCE_DUCKDB_PATH=str(path))
        return
    with postgres_database() as database, environment(PGDATABASE=database):
        yield build(PGDATABASE=database)


def check(warehouse: BuiltWarehouse, out: Path) -> CheckRun:
    with environment(**settings(warehouse)):
        return run_checks(warehouse.target, AS_OF, out=out)


def gate(warehouse: BuiltWarehouse) -> Build:
    connection = (
        DuckDBWarehouse(warehouse.path)
        if warehouse.target == "duckdb"
        else PostgresWarehouse(warehouse.database)
    )
    try:
        return require_passing_checks(connection, AS_OF)
    finally:
        connection.close()


def failed(run: CheckRun) -> dict[str, str]:
    """Failed critical expectations: 'suite: description' -> details."""
    return {f"{r.suite}: {r.description}": r.details for r in run.failures}


def marts_build(warehouse: BuiltWarehouse) -> str:
    (build_id,) = warehouse.query("select distinct build_id from marts.contacts")[0]
    return str(build_id)


def test_a_good_build_passes_and_its_verdict_names_the_build(built, tmp_path):
    run = check(built, tmp_path)

    assert run.success, run.format_table()
    build_id = marts_build(built)
    assert run.build_id == build_id
    assert {r.suite for r in run.results} >= {"staging_volume", "mart_volume", "mart_freshness"}
    # the build log has the build, the check run names it, the gate returns it
    assert built.query(
        f"select as_of, success from quality.dbt_builds where build_id = '{build_id}'"
    ) == [(AS_OF, True)]
    assert built.scalar(
        f"select build_id from quality.check_runs where run_id = '{run.run_id}'"
    ) == (build_id)
    assert gate(built).build_id == build_id
    # every export the syncs read comes from the same build
    for export in ("export_crm_contacts", "export_audience_members", "export_lead_notifications"):
        ids = {row[0] for row in built.query(f"select distinct build_id from marts.{export}")}
        assert ids <= {build_id}, export
    # the staging figures are kept for the next check, per table and reason
    pages = built.query(
        "select staged_rows, passed from quality.staging_volume_history "
        f"where run_id = '{run.run_id}' and source_table = 'pages' "
        "and quarantine_reason = '(all)'"
    )
    assert pages == [(built.scalar("select count(*) from staging.stg_segment__pages"), True)]
    # contacts kept their size since the day before: nothing to warn about
    shares = dict(built.query("select relation, share_of_previous from quality.check_marts"))
    assert 0.98 <= shares["contacts"] <= 1.02


def test_a_malformed_crm_email_leaves_a_contact_without_an_email_and_is_reported(built):
    for crm_id in BAD_EMAILS:
        contact = built.query(
            "select contacts.primary_email from marts.identity_map as ids "
            "inner join marts.contacts on ids.contact_key = contacts.contact_key "
            f"where ids.identifier_type = 'crm_contact_id' and ids.identifier = '{crm_id}'"
        )
        assert contact == [(None,)], crm_id
    assert built.scalar(
        "select count(*) from staging.stg_crm__contacts where has_rejected_email"
    ) == len(BAD_EMAILS)
    assert (
        built.scalar(
            "select count(*) from marts.quarantine where source_table = 'crm_contacts' "
            f"and record_id in ({', '.join(repr(c) for c in BAD_EMAILS)})"
        )
        == 0
    )
    assert built.scalar(
        "select affected from marts.report_hygiene where hygiene_check = 'invalid_email'"
    ) == len(BAD_EMAILS)
    # the contact check agrees with staging (the good-build test saw contact_validity pass)
    assert (
        built.scalar(
            "select count(*) from quality.check_contacts where malformed_email is not null"
        )
        == 0
    )


def test_a_44_percent_contact_drop_fails_mart_volume(built, tmp_path):
    before = built.scalar("select count(*) from marts.contacts")
    built.execute("create table marts.contacts_saved as select * from marts.contacts")
    dropped = int(before * 0.44)
    built.execute(
        "delete from marts.contacts where contact_key in (select contact_key from "
        f"marts.contacts order by contact_key limit {dropped})"
    )
    try:
        run = check(built, tmp_path)
        with pytest.raises(QualityGateError, match="minimum share of the previous build"):
            gate(built)
    finally:
        built.execute("delete from marts.contacts")
        built.execute("insert into marts.contacts select * from marts.contacts_saved")
        built.execute("drop table marts.contacts_saved")

    volume = failed(run)[
        "mart_volume: no mart fell under its minimum share of the previous build "
        "(checks__*_min_share_of_previous)"
    ]
    assert volume.startswith("1 unexpected: relation=contacts,")
    assert "share_of_previous=0.56" in volume
    assert check(built, tmp_path).success


def test_a_staging_collapse_fails_the_staging_suite_naming_the_table(built, tmp_path):
    assert check(built, tmp_path).success  # the baseline: the latest passing check
    good = built.scalar(
        "select count(*) from staging.base_segment__pages where quarantine_reason is null"
    )
    # a rerun that sets aside nine pages in ten: re-marked as duplicates
    built.execute(
        "create table staging.collapsed_pages as select _source_file, _source_row_number "
        "from staging.base_segment__pages where quarantine_reason is null "
        f"order by _source_file, _source_row_number limit {int(good * 0.9)}"
    )
    marked = (
        "(_source_file, _source_row_number) in "
        "(select _source_file, _source_row_number from staging.collapsed_pages)"
    )
    built.execute(
        f"update staging.base_segment__pages set quarantine_reason = 'duplicate_id' where {marked}"
    )
    try:
        run = check(built, tmp_path)
        with pytest.raises(QualityGateError, match=r"staging_volume: .*source_table=pages"):
            gate(built)
    finally:
        built.execute(
            f"update staging.base_segment__pages set quarantine_reason = null where {marked}"
        )
        built.execute("drop table staging.collapsed_pages")

    failures = failed(run)
    lost = failures[
        "staging_volume: no table lost most of its staged rows since the latest passing check "
        "(checks__staging_min_share_of_previous)"
    ]
    assert lost.startswith("1 unexpected: source_table=pages, quarantine_reason=(all),")
    majority = failures[
        "staging_volume: no table has most of its rows quarantined "
        "(checks__staging_max_quarantine_share)"
    ]
    assert "source_table=pages" in majority
    jump = failures[
        "staging_volume: no quarantine share (per table and per reason) jumped well above its "
        "recent level (checks__staging_share_jump_*)"
    ]
    assert "source_table=pages, quarantine_reason=duplicate_id" in jump
    assert {key.split(":")[0] for key in failures} == {"staging_volume"}
    # restored: compared with the latest passing check (never the failed one), it passes
    assert check(built, tmp_path).success
    gate(built)


def test_a_rebuild_never_checked_is_refused_by_the_gate_and_by_audience_sync(
    built, tmp_path, capsys
):
    assert check(built, tmp_path).success
    checked_build = gate(built).build_id
    with environment(**settings(built)):
        run_dbt(BUILD, target=built.target, as_of=AS_OF)  # same as_of, never checked
    rebuilt = marts_build(built)
    assert rebuilt != checked_build

    with pytest.raises(QualityGateError, match=f"build {rebuilt} .* was never checked"):
        gate(built)
    capsys.readouterr()
    with environment(**settings(built), AUDIENCE_OUTPUT_DIR=str(tmp_path)):
        code = main(["sync", "--target", built.target, "--dry-run", "crm"])
    assert code == 3
    printed = capsys.readouterr()  # the destination's line says why; the summary which
    assert "crm: refused: " in printed.out and "never checked" in printed.out
    assert "crm (refused)" in printed.err
    assert (
        built.scalar(
            "select count(*) from sync_state.sync_runs where status = 'refused' "
            f"and build_id is null and message like '%{rebuilt}%'"
        )
        == 1
    )

    # checked, it may be synced
    assert check(built, tmp_path).success
    assert gate(built).build_id == rebuilt
    with environment(**settings(built), AUDIENCE_OUTPUT_DIR=str(tmp_path)):
        assert main(["sync", "--target", built.target, "--dry-run", "crm"]) == 0
    assert (
        built.scalar("select build_id from sync_state.sync_runs where status = 'dry_run'")
        == rebuilt
    )


def test_marts_from_two_builds_are_refused(built, tmp_path):
    assert check(built, tmp_path).success
    build_id = marts_build(built)
    built.execute("update marts.export_crm_contacts set build_id = 'another-build'")
    try:
        with pytest.raises(
            QualityGateError, match=r"mix of builds .*export_crm_contacts: another-build"
        ):
            gate(built)
        run = check(built, tmp_path)
    finally:
        built.execute(f"update marts.export_crm_contacts set build_id = '{build_id}'")
    assert run.build_id is None
    across = failed(run)[
        "mart_freshness: the marts and exports the syncs read all come from one build"
    ]
    assert "builds_across_relations=2" in across
