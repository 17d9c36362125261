"""The quality-gate suites as code: they load, every expectation is one GX knows, and a
failing result reads as what is wrong and where."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from audience.checks import (
    CheckError,
    CheckResult,
    CheckRun,
    Suite,
    _details,
    gx_expectation_suite,
    load_suites,
    segment_catalog,
)


def test_every_suite_loads_and_builds_as_a_gx_suite():
    suites = load_suites()
    assert {s.name for s in suites} == {
        "raw_freshness",
        "raw_volume",
        "staging_volume",
        "mart_freshness",
        "mart_volume",
        "contact_validity",
        "membership_validity",
    }
    for suite in suites:
        built = gx_expectation_suite(suite)
        assert len(built.expectations) == len(suite.expectations)
        # descriptions tell results apart, so they must be unique within a suite
        descriptions = [spec.description for spec in suite.expectations]
        assert len(set(descriptions)) == len(descriptions), suite.name


def write_suite(root, text: str) -> None:
    (root / "expectations" / "batches").mkdir(parents=True)
    (root / "expectations" / "batches" / "some_batch.sql").write_text("select 1 as x")
    (root / "expectations" / "broken.yml").write_text(text)


def test_a_suite_naming_an_unknown_expectation_is_a_clear_error(tmp_path):
    write_suite(
        tmp_path,
        "name: broken\ndescription: d\nbatch: some_batch\nexpectations:\n"
        "  - {type: expect_column_to_be_nice, description: nice, kwargs: {column: x}}\n",
    )
    (suite,) = load_suites(tmp_path)
    with pytest.raises(CheckError, match=r"suite broken: nice: .*expect_column_to_be_nice"):
        gx_expectation_suite(suite)


def test_a_suite_without_its_batch_query_or_with_a_bad_severity_is_refused(tmp_path):
    write_suite(
        tmp_path,
        "name: broken\ndescription: d\nbatch: missing\nexpectations:\n"
        "  - {type: expect_column_values_to_not_be_null, description: n, kwargs: {column: x}}\n",
    )
    with pytest.raises(CheckError, match="batch 'missing' has no query"):
        load_suites(tmp_path)
    (tmp_path / "expectations" / "broken.yml").write_text(
        "name: broken\ndescription: d\nbatch: some_batch\nexpectations:\n"
        "  - {type: expect_column_values_to_not_be_null, description: n, severity: fatal,"
        " kwargs: {column: x}}\n"
    )
    with pytest.raises(CheckError, match="unknown severity 'fatal'"):
        load_suites(tmp_path)


def gx_result(success: bool, result: dict, exception: dict | None = None):
    return SimpleNamespace(success=success, result=result, exception_info=exception or {})


def test_a_failure_names_the_failing_rows_by_their_identifying_columns():
    rows = [{"source_table": f"segment.t{i}", "age_hours": 50.0 + i} for i in range(12)]
    item = gx_result(False, {"unexpected_count": 12, "partial_unexpected_index_list": rows})
    details = _details(item, ["source_table", "age_hours"])
    assert details.startswith("12 unexpected: source_table=segment.t0, age_hours=50; ")
    assert "source_table=segment.t9, age_hours=59" in details
    assert "segment.t10" not in details and details.endswith("(and 2 more)")


def test_a_failure_without_rows_shows_the_values_or_the_observed_value():
    values = gx_result(False, {"unexpected_count": 2, "partial_unexpected_list": ["x", 7.25]})
    assert _details(values, []) == "2 unexpected: 'x', 7.25"
    observed = gx_result(False, {"observed_value": 0})
    assert _details(observed, []) == "observed 0"
    broken = gx_result(
        False, {}, {"raised_exception": True, "exception_message": "column x missing"}
    )
    assert _details(broken, []) == "could not be evaluated: column x missing"


def test_warnings_do_not_fail_a_run_but_critical_failures_do():
    def result(severity: str, success: bool) -> CheckResult:
        return CheckResult("s", "e", "c", severity, success, f"{severity} {success}", "d")

    run = CheckRun("r", "duckdb", "2026-06-30 00:00:00", "2026-06-30 00:01:00")
    run.results = [result("critical", True), result("warning", False)]
    assert run.success and [r.status for r in run.results] == ["pass", "warn"]
    run.results.append(result("critical", False))
    assert not run.success and len(run.failures) == 1
    assert "FAILED: 3 expectations, 1 failed, 1 warnings" in run.format_table()


def test_the_segment_sets_come_from_the_segment_models_yaml():
    def model(name: str, audience: str, channel: str) -> dict:
        segment = {"audience": audience, "channel": channel}
        return {"resource_type": "model", "name": name, "config": {"meta": {"segment": segment}}}

    manifest = {
        "nodes": {
            "a": model("tofu", "prospects", "email"),
            "b": model("hot", "non_customers", "any"),
            "c": model("advocate", "customers", "email"),
            "d": {"resource_type": "model", "name": "contacts", "config": {"meta": {}}},
        }
    }
    catalog = segment_catalog(manifest)
    assert catalog.segment_ids == ("advocate", "hot", "tofu")
    assert catalog.prospect_segment_ids == ("hot", "tofu")


def test_a_suite_filters_its_batch_with_its_where_clause():
    suite = Suite("s", "d", "check_raw_sources", (), where="is_stream")
    assert suite.batch_query() == "select * from quality.check_raw_sources where is_stream"
