"""The main job, `audience run`, end to end through the CLI entry point."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from warehouse_state import capture, differences
from warehouses import BuiltWarehouse, environment, nonzero, postgres_database

from audience.cli import main
from audience.devservers import ApiState, Server
from audience.project import project_dir
from audience.syncs import load_config

pytestmark = pytest.mark.slow


def run_main_job(tmp_path, target: str, capsys) -> dict:
    code = main(
        ["run", "--people", "150", "--seed", "3", "--as-of", "2026-06-30", "--target", target]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "quarantined rows:" in out and "merged duplicates:" in out
    # the quality gates ran after the build, passed, and wrote their Data Docs
    assert f"quality checks on {target} as of 2026-06-30 00:00:00" in out
    assert "passed: " in out
    assert (tmp_path / "output" / "data_docs" / "index.html").exists()
    # and the dbt docs site: one self-contained page plus dbt's artifacts
    assert "dbt docs: " in out
    for name in ("index.html", "manifest.json", "catalog.json", "semantic_manifest.json"):
        assert (tmp_path / "output" / "dbt_docs" / name).exists(), name
    # then the syncs that are configured: the ad files need nothing, the rest are skipped
    assert "ad_audiences: success: " in out
    assert "crm: skipped: not configured: set AUDIENCE_CRM_DATABASE" in out
    # one file per audience: google/<audience>/<file>
    assert list((tmp_path / "output" / "ad_audiences" / "google").glob("*/*.csv"))
    return json.loads((tmp_path / "output" / "run_summary.json").read_text())


def check_summary(summary: dict) -> None:
    assert summary["as_of"] == "2026-06-30 00:00:00"
    assert summary["contacts"] > 100
    assert 0 < summary["identified_contacts"] < summary["contacts"]
    assert summary["quarantined_rows"] == summary["relations"]["marts"]["quarantine"]
    assert summary["relations"]["marts"]["contacts"] == summary["contacts"]
    assert summary["relations"]["raw"]["pages"] > 1000
    assert set(summary["seconds"]) == {"generate", "load", "build", "check", "docs"}
    # every segment model of the catalog, members or not
    catalog = {path.stem for path in (project_dir() / "models" / "segments").rglob("*.sql")}
    assert set(summary["segment_sizes"]) == catalog
    assert (
        sum(summary["segment_sizes"].values())
        == summary["relations"]["marts"]["segment_membership"]
    )


def test_run_on_duckdb_generates_loads_builds_and_summarizes(tmp_path, capsys):
    """The main job, twice: `make run` twice exits 0 both times and the second run (the
    same demo data generated again, loaded with --replace, built as of the same instant)
    leaves every built relation as the first left it. It used to quarantine every event as
    a duplicate of itself."""
    path = tmp_path / "run.duckdb"
    with environment(AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"), AUDIENCE_DUCKDB_PATH=str(path)):
        first = run_main_job(tmp_path, "duckdb", capsys)
        built = capture(BuiltWarehouse("duckdb", tmp_path, datetime(2026, 6, 30), path=path))
        summary = run_main_job(tmp_path, "duckdb", capsys)
        again = capture(BuiltWarehouse("duckdb", tmp_path, datetime(2026, 6, 30), path=path))
        assert not differences(again, built)
        assert (summary["contacts"], summary["quarantine"]) == (
            first["contacts"],
            first["quarantine"],
        )
        # a dry run after the job: the lists would get everything, the ad files nothing new
        assert main(["sync", "--dry-run"]) == 0
        out = capsys.readouterr().out
    check_summary(summary)
    assert "marketing_lists: dry run: would send " in out and " to add" in out
    assert "ad_audiences: dry run: would send nothing" in out
    manifest = json.loads((tmp_path / "output" / "demo-data" / "_manifest.json").read_text())
    assert summary["quarantine"] == nonzero(manifest["bad_rows"])


def test_a_failing_sync_fails_the_run_but_not_the_other_syncs_or_the_report(tmp_path, capsys):
    """The lists API is down: `audience run` still syncs the ad files, prints a line per
    destination, writes its report, and exits 1; so does `audience sync` on its own."""
    down = Server(ApiState())
    down.close()  # nothing listens there any more
    with environment(
        AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"),
        AUDIENCE_DUCKDB_PATH=str(tmp_path / "run.duckdb"),
        AUDIENCE_LISTS_API_URL=down.url,
    ):
        code = main(["run", "--people", "150", "--seed", "3", "--as-of", "2026-06-30"])
        run = capsys.readouterr()
        assert code == 1, run.out
        assert "marketing_lists: failed: 0 added, 0 changed, 0 removed" in run.out
        assert "delivery failed after 0 records were acknowledged" in run.out
        assert "ad_audiences: success: " in run.out
        assert "crm: skipped: not configured" in run.out
        assert "crm_tasks: skipped: not configured" in run.out
        assert "sequences: skipped: not configured" in run.out
        destinations = len(load_config())
        assert f"1 of {destinations} syncs did not go through: marketing_lists (failed)" in run.err
        assert (tmp_path / "output" / "report.html").exists()

        code = main(["sync", "marketing_lists", "ad_audiences"])
        synced = capsys.readouterr()
    assert code == 1
    lines = synced.out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["marketing_lists", "ad_audiences"]
    assert lines[0].startswith("marketing_lists: failed: ")
    assert lines[1].startswith("ad_audiences: success: 0 added")


@pytest.mark.postgres
def test_run_on_postgres(tmp_path, capsys):
    with (
        postgres_database() as database,
        environment(AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"), PGDATABASE=database),
    ):
        summary = run_main_job(tmp_path, "postgres", capsys)
    check_summary(summary)


def test_load_error_is_a_clear_message_and_exit_code(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "pages.csv").write_text("id,url\np1,https://x.example/\n")
    with environment(AUDIENCE_DUCKDB_PATH=str(tmp_path / "err.duckdb")):
        code = main(["load", str(data)])
    err = capsys.readouterr().err
    assert code == 2
    assert "pages.csv: missing required column(s) anonymous_id, user_id, timestamp" in err
