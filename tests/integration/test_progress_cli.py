"""Progress on long work: step lines with counts on stderr, nothing under --quiet."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from warehouses import environment

from audience.cli import main
from audience.dbt import run_dbt
from audience.progress import LineReporter

AS_OF = "2026-06-30"


@pytest.fixture
def workdir(tmp_path):
    with environment(
        AUDIENCE_DUCKDB_PATH=str(tmp_path / "progress.duckdb"),
        AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"),
    ):
        yield tmp_path


def step_lines(err: str, action: str) -> dict[str, list[str]]:
    """The step lines of one action, by subject: {subject: [count, unit, seconds, ...]}."""
    lines = {}
    for line in err.splitlines():
        words = line.split()
        if words and words[0] == action:
            lines[words[1]] = words[2:]
    return lines


def test_generate_and_load_print_step_lines_with_counts(workdir, capsys):
    data = workdir / "data"
    assert main(["generate", str(data), "--people", "30", "--as-of", AS_OF]) == 0
    out, err = capsys.readouterr()
    manifest = json.loads((data / "_manifest.json").read_text())
    events = sum(manifest["rows"][t] for t in ("pages", "tracks", "identifies", "email_events"))
    generated = step_lines(err, "generate")
    assert generated["events"][:2] == [f"{events:,}", "rows"]
    assert generated["events"][-2:] == ["30", "people"]
    assert generated["accounts"][1] == "rows"
    assert generated["events"][2].endswith("s")  # elapsed seconds
    assert f"wrote {sum(manifest['rows'].values()):,} rows to {data}" in out  # the result

    assert main(["load", str(data)]) == 0
    out, err = capsys.readouterr()
    loaded = step_lines(err, "load")
    assert sorted(loaded) == sorted(manifest["rows"])
    for table, rows in manifest["rows"].items():
        assert loaded[table][0] == f"{rows:,}", table
        assert loaded[table][1] == ("row" if rows == 1 else "rows")
    assert step_lines(err, "check")["columns"][:2] == ["10", "files"]
    assert out.startswith("table ")  # the result table stays on stdout


@pytest.mark.parametrize(
    "quiet", [["--quiet"], ["-q"]], ids=["before the command", "short flag before"]
)
def test_quiet_prints_nothing_but_the_result(workdir, capsys, quiet):
    data = workdir / "data"
    assert main([*quiet, "generate", str(data), "--people", "30", "--as-of", AS_OF]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[-1].startswith("wrote ")
    # --quiet also goes after the command
    assert main(["load", str(data), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[0].split() == ["table", "rows", "source"]


def test_dbt_progress_in_process_replaces_dbt_log_lines(workdir, capsys):
    stream = io.StringIO()
    as_of = datetime(2026, 6, 30)
    run_dbt(
        ["seed", "--select", "fit_weights"],
        target="duckdb",
        as_of=as_of,
        progress=LineReporter(stream),
    )
    lines = stream.getvalue().splitlines()
    assert [line.split()[:4] for line in lines] == [["seed", "dbt", "1", "node"]]
    assert lines[0].endswith("1 seed")
    assert "Running with dbt" not in capsys.readouterr().out  # dbt's own lines are off
    # the next in-process command without a reporter is as before: no callback left behind
    run_dbt(["seed", "--select", "fit_weights"], target="duckdb", as_of=as_of)
    assert stream.getvalue().splitlines() == lines
