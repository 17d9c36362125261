"""Progress reporting: step lines, tenths of long work, the choice of reporter, dbt events."""

from __future__ import annotations

import io
from types import SimpleNamespace

from audience import progress
from audience.progress import DbtProgress, LineReporter, RichReporter, format_step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_step_line_has_action_subject_count_and_seconds():
    line = format_step("load", "pages", count=120_000, unit="rows", seconds=1.234)
    assert line.split() == ["load", "pages", "120,000", "rows", "1.2s"]
    assert format_step("load", "deals", count=1, unit="rows", seconds=0).split()[2:4] == [
        "1",
        "row",
    ]
    line = format_step("sync", "crm", count=3, unit="records", seconds=0.5, detail="success")
    assert line.split() == ["sync", "crm", "3", "records", "0.5s", "success"]


def test_line_reporter_reports_each_tenth_and_a_closing_line():
    out = io.StringIO()
    reporter = LineReporter(out, interval=0)
    task = reporter.task("build", "dbt", total=20, unit="nodes")
    for _ in range(20):
        task.advance()
    task.done(detail="20 models")
    task.done()  # a second done reports nothing
    lines = out.getvalue().splitlines()
    assert len(lines) == 10  # 10%, ..., 90%, then the closing line
    assert lines[0].endswith("2/20 nodes (10%)")
    assert lines[8].endswith("18/20 nodes (90%)")
    assert lines[-1].split()[:4] == ["build", "dbt", "20", "nodes"]
    assert lines[-1].endswith("20 models")


def test_line_reporter_skips_interim_lines_for_quick_work():
    out = io.StringIO()
    task = LineReporter(out, interval=60).task("read", "3 files", total=3, unit="files")
    for _ in range(3):
        task.advance()
    task.done(count=1234, unit="rows")
    assert out.getvalue().split() == ["read", "3", "files", "1,234", "rows", "0.0s"]


def test_silent_reporter_reports_nothing(capsys):
    with progress.SILENT as reporter:
        reporter.note("x")
        reporter.step("load", "pages", count=1)
        task = reporter.task("build", total=2)
        task.advance(2)
        task.done()
    assert capsys.readouterr() == ("", "")


def test_reporter_for_the_cli(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert progress.for_cli(quiet=True, stream=Terminal()) is progress.SILENT
    assert isinstance(progress.for_cli(quiet=False, stream=io.StringIO()), LineReporter)
    assert isinstance(progress.for_cli(quiet=False, stream=Terminal()), RichReporter)
    monkeypatch.setenv("CI", "true")
    assert isinstance(progress.for_cli(quiet=False, stream=Terminal()), LineReporter)


def test_rich_reporter_prints_the_step_lines_and_stops_its_bar():
    out = Terminal()
    with RichReporter(out) as reporter:
        task = reporter.task("sync", "crm", total=4, unit="records")
        task.advance(4)
        task.done(detail="success")
        assert not reporter.started  # no live bar between tasks
        reporter.step("load", "pages", count=5)
    text = out.getvalue()
    assert "sync     crm" in text and "success" in text
    assert "load     pages" in text


def event(name: str, **data) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))


def finished(resource_type: str, status: str) -> SimpleNamespace:
    info = SimpleNamespace(resource_type=resource_type, node_status=status)
    return event("NodeFinished", node_info=info)


def test_dbt_progress_counts_nodes_by_type_and_status():
    out = io.StringIO()
    tracker = DbtProgress(LineReporter(out, interval=0), ["build"])
    tracker(event("SQLQuery"))
    tracker(event("LogStartLine", total=5, index=1))
    for resource_type, status in [
        ("seed", "success"),
        ("model", "success"),
        ("model", "success"),
        ("test", "pass"),
        ("test", "warn"),
    ]:
        tracker(finished(resource_type, status))
    tracker.finish()
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("1/5 nodes (20%)")
    assert lines[-1].split()[:4] == ["build", "dbt", "5", "nodes"]
    assert lines[-1].endswith("1 seed, 2 models, 2 tests; warn 1")


def test_dbt_progress_without_nodes_reports_nothing():
    out = io.StringIO()
    tracker = DbtProgress(LineReporter(out), ["parse"])
    tracker(event("SQLQuery"))
    tracker.finish()
    assert out.getvalue() == ""


def test_dbt_callback_costs_microseconds_per_event():
    """A build of the tiny fixture fires ~12,900 dbt events for 542 nodes; the callback looks
    at each one's name only, so it does not weigh on a build."""
    import time

    tracker = DbtProgress(progress.SILENT, ["build"])
    noise = event("SQLQuery")
    started = time.perf_counter()
    for _ in range(12_900):
        tracker(noise)
    assert time.perf_counter() - started < 0.5
