"""The gate's pure logic: which build the marts hold, and whether that build may be synced."""

from __future__ import annotations

import pytest

from audience.checks import (
    Build,
    CheckError,
    QualityGateError,
    RecordedResult,
    built_relations,
    gate_verdict,
    load_suites,
    single_build,
)

BUILD = Build("b2", "2026-06-30 00:00:00", "2026-06-30 00:20:00", True)
SCOPES = {"raw_volume": "as_of", "mart_volume": "build", "staging_volume": "build"}


def result(
    suite: str,
    run_id: str,
    checked_at: str,
    *,
    build_id: str | None = "b2",
    as_of: str = "2026-06-30 00:00:00",
    status: str = "pass",
) -> RecordedResult:
    return RecordedResult(suite, run_id, checked_at, build_id, as_of, status, "d", "details")


def test_one_build_across_the_marts_is_the_build():
    assert single_build({"contacts": ["b2"], "segment_membership": ["b2"], "export": []}) == "b2"


def test_marts_mixing_builds_name_each_relation_and_its_builds():
    with pytest.raises(QualityGateError, match=r"mix of builds \(contacts: b2; export: b1\)"):
        single_build({"contacts": ["b2"], "export": ["b1"]})
    with pytest.raises(QualityGateError, match="without a build_id"):
        single_build({"contacts": [None]})
    with pytest.raises(QualityGateError, match="marts are empty"):
        single_build({"contacts": [], "export": []})


def test_the_exports_are_built_relations():
    assert built_relations()[:2] == ("contacts", "segment_membership")
    assert "export_crm_contacts" in built_relations()


def test_a_build_whose_suites_all_passed_may_be_synced():
    results = [
        result("raw_volume", "r1", "2026-06-30 00:05:00", build_id="b1"),  # before the build
        result("mart_volume", "r2", "2026-06-30 00:25:00"),
        result("staging_volume", "r2", "2026-06-30 00:25:00"),
    ]
    assert gate_verdict(BUILD, results, SCOPES) is None


def test_a_rebuild_never_checked_does_not_borrow_the_verdict_of_the_build_before():
    results = [
        result("raw_volume", "r1", "2026-06-30 00:05:00", build_id="b1"),
        result("mart_volume", "r1", "2026-06-30 00:05:00", build_id="b1"),
        result("staging_volume", "r1", "2026-06-30 00:05:00", build_id="b1"),
    ]
    reason = gate_verdict(BUILD, results, SCOPES)
    assert reason is not None
    assert reason.startswith("build b2 (as_of 2026-06-30 00:00:00") and "never checked" in reason
    assert "run `audience check`" in reason


def test_the_latest_check_of_the_build_decides():
    failed_then_passed = [
        result("mart_volume", "r2", "2026-06-30 00:25:00", status="fail"),
        result("mart_volume", "r3", "2026-06-30 00:30:00"),
        result("staging_volume", "r3", "2026-06-30 00:30:00"),
        result("raw_volume", "r3", "2026-06-30 00:30:00"),
    ]
    assert gate_verdict(BUILD, failed_then_passed, SCOPES) is None
    passed_then_failed = [
        result("mart_volume", "r2", "2026-06-30 00:25:00"),
        result("staging_volume", "r2", "2026-06-30 00:25:00"),
        result("raw_volume", "r2", "2026-06-30 00:25:00"),
        result("staging_volume", "r3", "2026-06-30 00:30:00", status="fail"),
    ]
    reason = gate_verdict(BUILD, passed_then_failed, SCOPES)
    assert reason is not None and "failed (run r3 at 2026-06-30 00:30:00)" in reason
    assert "  staging_volume: d: details" in reason and "mart_volume" not in reason


def test_a_raw_suite_counts_for_the_as_of_and_a_missing_suite_is_named():
    results = [
        result("raw_volume", "r1", "2026-06-29 00:05:00", as_of="2026-06-29 00:00:00"),
        result("mart_volume", "r2", "2026-06-30 00:25:00"),
        result("staging_volume", "r2", "2026-06-30 00:25:00"),
    ]
    reason = gate_verdict(BUILD, results, SCOPES)
    assert reason is not None and reason.startswith("suites never checked for build b2")
    assert reason.split(": ")[1].startswith("raw_volume;")


def test_the_raw_suites_keep_their_verdict_per_as_of_and_an_unknown_scope_is_refused(tmp_path):
    scopes = {suite.name: suite.scope for suite in load_suites()}
    assert scopes["raw_freshness"] == scopes["raw_volume"] == "as_of"
    assert {scopes[s] for s in scopes if not s.startswith("raw_")} == {"build"}
    (tmp_path / "expectations" / "batches").mkdir(parents=True)
    (tmp_path / "expectations" / "batches" / "b.sql").write_text("select 1 as x")
    (tmp_path / "expectations" / "s.yml").write_text(
        "name: s\ndescription: d\nbatch: b\nscope: forever\nexpectations:\n"
        "  - {type: expect_column_values_to_not_be_null, description: n, kwargs: {column: x}}\n"
    )
    with pytest.raises(CheckError, match="unknown scope 'forever'"):
        load_suites(tmp_path)
