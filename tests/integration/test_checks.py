"""The quality gates on generated data: they pass on a good build, and each specific
expectation fails, with a message naming what is wrong, on stale data, an emptied source and a
broken mart rule, on DuckDB and PostgreSQL. The verdict is what the syncs read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from warehouses import (
    BuiltWarehouse,
    build_warehouse,
    environment,
    postgres_database,
)

from audience.checks import CheckRun, QualityGateError, require_passing_checks, run_checks
from audience.dbt import run_dbt
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def checked(request, tmp_path_factory) -> Iterator[BuiltWarehouse]:
    """Generated data (400 people) built on each target; tests restore what they change."""
    from audience.generator import generate

    root = tmp_path_factory.mktemp(f"checks-{request.param}")
    generate(root / "data", people=400, seed=11, as_of=AS_OF)
    if request.param == "duckdb":
        path = root / "checks.duckdb"
        with environment(AUDIENCE_DUCKDB_PATH=str(path)):
            yield build_warehouse("duckdb", root / "data", AS_OF, path=path)
        return
    with postgres_database() as database, environment(PGDATABASE=database):
        yield build_warehouse("postgres", root / "data", AS_OF, database=database)


def external_assets(page: str) -> list[str]:
    """The scripts, stylesheets, images and CSS urls a page loads from the internet."""
    tags = re.findall(
        r"<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']*)",
        page,
        re.IGNORECASE,
    )
    return tags + re.findall(r"url\(\s*[\"']?((?:https?:)?//[^)]*)\)", page, re.IGNORECASE)


def check(warehouse: BuiltWarehouse, tmp_path, as_of: datetime = AS_OF) -> CheckRun:
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(warehouse.path)}
        if warehouse.target == "duckdb"
        else {"PGDATABASE": warehouse.database}
    )
    with environment(**settings):
        return run_checks(warehouse.target, as_of, out=tmp_path)


def failed(run: CheckRun) -> dict[str, str]:
    """Failed critical expectations: 'suite: description' -> details."""
    return {f"{r.suite}: {r.description}": r.details for r in run.failures}


def connect(warehouse: BuiltWarehouse) -> DuckDBWarehouse | PostgresWarehouse:
    if warehouse.target == "duckdb":
        return DuckDBWarehouse(warehouse.path)
    return PostgresWarehouse(warehouse.database)


def gate(warehouse: BuiltWarehouse, as_of: datetime = AS_OF) -> None:
    connection = connect(warehouse)
    try:
        require_passing_checks(connection, as_of)
    finally:
        connection.close()


def test_a_good_build_passes_every_check_and_writes_data_docs(checked, tmp_path):
    run = check(checked, tmp_path)

    assert run.success, run.format_table()
    suites = {r.suite for r in run.results}
    assert suites == {
        "raw_freshness",
        "raw_volume",
        "staging_volume",
        "mart_freshness",
        "mart_volume",
        "contact_validity",
        "membership_validity",
    }
    assert len(run.results) >= 25
    # the batches ran in the warehouse and hold what GX validated
    sources = checked.scalar("select count(*) from quality.check_raw_sources")
    assert sources == 10
    assert checked.scalar("select count(*) from quality.check_contacts") == checked.scalar(
        "select count(*) from marts.contacts"
    )
    # Data Docs: an index page linking one validation page per suite
    index = tmp_path / "data_docs" / "index.html"
    assert index.exists()
    pages = list((tmp_path / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == len(suites)
    assert "raw_freshness" in index.read_text()
    # they open offline: no script, stylesheet or image from the internet, the index's table
    # written out (a row per validation), and each page names the build it checked
    for page in [index, *pages]:
        assert not external_assets(page.read_text()), page
    assert run.build_id and f"as_of-2026-06-30T000000-build-{run.build_id}" in index.read_text()
    linked = set(re.findall(r'<a href="(validations/[^"]+)"', index.read_text()))
    assert {p.relative_to(tmp_path / "data_docs").as_posix() for p in pages} == linked
    for page in pages:
        text = page.read_text()
        assert f"as_of-2026-06-30T000000-build-{run.build_id}" in text
        assert "Data asset: None" not in text and "Data asset: quality.check_" in text
    # the verdict is in the warehouse, and the gate opens
    saved = json.loads((tmp_path / "check_results.json").read_text())
    assert saved["success"] is True and saved["run_id"] == run.run_id
    assert checked.scalar(f"select success from quality.check_runs where run_id = '{run.run_id}'")
    gate(checked)


def test_stale_data_fails_raw_and_mart_freshness(checked, tmp_path):
    later = AS_OF + timedelta(days=10)
    run = check(checked, tmp_path, as_of=later)

    assert not run.success
    failures = failed(run)
    freshness = failures[
        "raw_freshness: the newest event is younger than the source's error_after window"
    ]
    assert "source_table=segment.pages" in freshness and "age_hours=" in freshness
    marts = failures["mart_freshness: the marts were built for this as_of"]
    assert "relation=contacts, built_as_of=2026-06-30 00:00:00" in marts
    # events stopped ten days before: every daily stream dropped to nothing
    volume = failures[
        "raw_volume: no stream dropped to near zero (under 10% of its recent average)"
    ]
    assert "source_table=segment.pages" in volume and "window_ratio=0" in volume
    # validity does not depend on as_of: it still passes
    assert not any(f.startswith(("contact_validity", "membership_validity")) for f in failures)
    # the build's latest check failed: the gate stays shut, whatever as_of it is asked for
    with pytest.raises(QualityGateError, match="marts were built for this as_of"):
        gate(checked)
    with pytest.raises(QualityGateError, match="not a build as of 2026-07-10"):
        gate(checked, later)


def test_dbt_source_freshness_agrees_with_the_freshness_suite(checked, tmp_path):
    # a day and a half on: some streams are late (warn), some stale (error), some fine
    later = AS_OF + timedelta(days=1, hours=12)
    settings = (
        {"AUDIENCE_DUCKDB_PATH": str(checked.path)}
        if checked.target == "duckdb"
        else {"PGDATABASE": checked.database}
    )
    with environment(**settings):
        result = run_dbt(["source", "freshness"], target=checked.target, as_of=later, check=False)
    dbt_status = {
        r.node.unique_id.removeprefix("source.audience."): str(r.status)
        for r in result.result.results
        # the demo data has no vendor tables: those sources are not provided, so not checked
        if r.node.unique_id.startswith("source.") and not r.node.config.meta.get("vendor")
    }
    run = check(checked, tmp_path, as_of=later)
    rows = checked.query(
        "select source_table, age_hours, warn_after_hours, error_after_hours "
        "from quality.check_raw_sources where checks_age"
    )

    def status(age: float, warn: int | None, error: int | None) -> str:
        if error is not None and age > error:
            return "error"
        return "warn" if warn is not None and age > warn else "pass"

    gx_status = {table: status(age, warn, error) for table, age, warn, error in rows}
    assert dbt_status == gx_status
    assert set(dbt_status.values()) == {"pass", "warn", "error"}
    # and GX's own verdicts name exactly those sources
    by_description = {r.description: r for r in run.results if r.suite == "raw_freshness"}
    errors = by_description["the newest event is younger than the source's error_after window"]
    warns = by_description["the newest event is younger than the source's warn_after window"]
    assert not errors.success and errors.status == "fail"
    assert not warns.success and warns.status == "warn"
    for table, status in dbt_status.items():
        assert (f"source_table={table}," in errors.details) == (status == "error"), table
        assert (f"source_table={table}," in warns.details) == (status != "pass"), table


def test_an_emptied_source_and_broken_mart_rules_fail_their_expectations(checked, tmp_path):
    key = checked.scalar("select min(contact_key) from marts.contacts where is_customer")
    prospect = "recent_visitor_unconverted"  # audience: prospects
    checked.execute("create table raw.tracks_saved as select * from raw.tracks")
    checked.execute("delete from raw.tracks")
    checked.execute(f"update marts.contacts set lead_score = 140 where contact_key = '{key}'")
    checked.execute(
        "insert into marts.segment_membership "
        "(contact_key, segment_id, entered_at, reason, as_of, build_id) "
        f"select contact_key, '{prospect}', as_of, 'planted', as_of, build_id "
        f"from marts.contacts where contact_key = '{key}'"
    )
    try:
        run = check(checked, tmp_path)
    finally:
        checked.execute("insert into raw.tracks select * from raw.tracks_saved")
        checked.execute("drop table raw.tracks_saved")
        checked.execute(
            f"delete from marts.segment_membership where contact_key = '{key}' "
            f"and segment_id = '{prospect}' and reason = 'planted'"
        )
        checked.execute(
            "update marts.contacts set lead_score = (select lead_score from "
            f"snapshots.contact_score_snapshot where contact_key = '{key}' "
            f"and dbt_valid_to is null) where contact_key = '{key}'"
        )

    failures = failed(run)
    assert failures["raw_volume: every provided raw table holds rows"].startswith(
        "1 unexpected: source_table=segment.tracks"
    )
    assert (
        "source_table=segment.tracks"
        in failures["raw_freshness: every raw stream holds events up to as_of"]
    )
    lead = failures["contact_validity: the lead score is within 0-100"]
    assert lead == f"1 unexpected: contact_key={key}"
    customers = failures[
        "membership_validity: no customer is in a prospect segment "
        "(audience prospects or non_customers)"
    ]
    assert f"segment_id={prospect}" in customers and f"example_contact_key={key}" in customers
    # nothing else broke
    assert set(failures) == {
        "raw_volume: every provided raw table holds rows",
        "raw_freshness: every raw stream holds events up to as_of",
        "contact_validity: the lead score is within 0-100",
        "membership_validity: no customer is in a prospect segment "
        "(audience prospects or non_customers)",
    }
    with pytest.raises(QualityGateError) as refused:
        gate(checked)
    assert "lead score is within 0-100: 1 unexpected" in str(refused.value)

    # fixed data, checked again: the gate opens
    assert check(checked, tmp_path).success
    gate(checked)


def test_the_gate_stays_shut_for_an_as_of_the_marts_were_not_built_for(checked):
    with pytest.raises(QualityGateError, match="not a build as of 2020-01-01"):
        gate(checked, datetime(2020, 1, 1))
