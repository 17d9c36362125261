"""Progress of long work (generate, load, build, sync): step lines, a live bar, or nothing.

Library functions take a `Reporter` and default to `SILENT`, so callers and tests that do
not ask for progress see nothing. The CLI picks one with `for_cli`: nothing under `--quiet`;
plain step lines when stderr is not a terminal or under CI (`CI=true`); a rich progress bar
on a terminal. Progress goes to stderr, so stdout keeps only the command's result.

A step line reads `load     pages               120,000 rows      1.2s`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any, Self


def format_step(
    action: str,
    subject: str = "",
    *,
    count: int | None = None,
    unit: str = "",
    seconds: float | None = None,
    detail: str = "",
) -> str:
    """One step line: action, subject, count and unit, elapsed seconds, detail."""
    if count == 1 and unit.endswith("s"):
        unit = unit[:-1]
    counted = f"{count:>11,} {unit:<7}" if count is not None else " " * 19
    elapsed = f"{seconds:>7.1f}s" if seconds is not None else " " * 8
    line = f"{action:<8} {subject:<18} {counted} {elapsed}"
    return f"{line}  {detail}".rstrip() if detail else line.rstrip()


class Task:
    """Work that advances in parts (chunks, batches, dbt nodes). This one reports nothing."""

    completed: int = 0
    total: int | None = None

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, amount: int = 1) -> None:
        self.completed += amount

    def done(self, *, count: int | None = None, unit: str | None = None, detail: str = "") -> None:
        """The work is over: report its line (count defaults to the parts completed)."""


class Reporter:
    """Reports nothing: the default of every function that can report progress."""

    def note(self, text: str) -> None:
        """A line of context (what is about to happen)."""

    def step(
        self,
        action: str,
        subject: str = "",
        *,
        count: int | None = None,
        unit: str = "rows",
        seconds: float | None = None,
        detail: str = "",
    ) -> None:
        """A finished step."""

    def task(
        self, action: str, subject: str = "", *, total: int | None = None, unit: str = ""
    ) -> Task:
        """Start work that advances in parts; call `done` on the task when it is over."""
        return Task()

    def close(self) -> None:
        """Stop any live display."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


SILENT = Reporter()


class _ReportedTask(Task):
    """A task that ends with its step line on its reporter."""

    def __init__(
        self, reporter: Reporter, action: str, subject: str, total: int | None, unit: str
    ) -> None:
        self.step_reporter = reporter
        self.action, self.subject, self.unit = action, subject, unit
        self.total = total
        self.started = time.perf_counter()
        self.finished = False

    def _closing(self) -> None:
        """What the reporter clears before the step line."""

    def done(self, *, count: int | None = None, unit: str | None = None, detail: str = "") -> None:
        if self.finished:
            return
        self.finished = True
        self._closing()
        self.step_reporter.step(
            self.action,
            self.subject,
            count=self.completed if count is None else count,
            unit=self.unit if unit is None else unit,
            seconds=time.perf_counter() - self.started,
            detail=detail,
        )


class _LineTask(_ReportedTask):
    def __init__(
        self, reporter: LineReporter, action: str, subject: str, total: int | None, unit: str
    ) -> None:
        super().__init__(reporter, action, subject, total, unit)
        self.reporter = reporter
        self.last_line = self.started
        self.tenths = 0

    def advance(self, amount: int = 1) -> None:
        with self.reporter.lock:
            self.completed += amount
            if not self.total or self.completed >= self.total:
                return
            tenths = self.completed * 10 // self.total
            now = time.perf_counter()
            if tenths <= self.tenths or now - self.last_line < self.reporter.interval:
                return
            self.tenths, self.last_line = tenths, now
            self.reporter.write(
                format_step(
                    self.action,
                    self.subject,
                    seconds=time.perf_counter() - self.started,
                    detail=f"{self.completed:,}/{self.total:,} {self.unit} ({tenths * 10}%)",
                )
            )


class LineReporter(Reporter):
    """Plain lines (for logs and pipes): a line per step, and for work in parts a line each
    time another tenth of it is done, at most one every `interval` seconds."""

    def __init__(self, stream: IO[str], *, interval: float = 2.0) -> None:
        self.stream = stream
        self.interval = interval
        self.lock = threading.RLock()

    def write(self, line: str) -> None:
        with self.lock:
            print(line, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        self.write(text)

    def step(
        self,
        action: str,
        subject: str = "",
        *,
        count: int | None = None,
        unit: str = "rows",
        seconds: float | None = None,
        detail: str = "",
    ) -> None:
        self.write(
            format_step(action, subject, count=count, unit=unit, seconds=seconds, detail=detail)
        )

    def task(
        self, action: str, subject: str = "", *, total: int | None = None, unit: str = ""
    ) -> Task:
        return _LineTask(self, action, subject, total, unit)


class _RichTask(_ReportedTask):
    def __init__(
        self, reporter: RichReporter, action: str, subject: str, total: int | None, unit: str
    ) -> None:
        super().__init__(reporter, action, subject, total, unit)
        self.reporter = reporter
        self.task_id = reporter.bar.add_task(f"{action} {subject}".strip(), total=total, unit=unit)

    def set_total(self, total: int) -> None:
        self.total = total
        self.reporter.bar.update(self.task_id, total=total)

    def advance(self, amount: int = 1) -> None:
        self.completed += amount
        self.reporter.bar.advance(self.task_id, amount)

    def _closing(self) -> None:
        self.reporter.bar.remove_task(self.task_id)
        if not self.reporter.bar.task_ids:
            self.reporter.close()  # no live bar between tasks: plain prints stay clean


class RichReporter(Reporter):
    """A live progress bar on a terminal, with the step lines printed above it."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(file=stream, highlight=False)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            # the command's result goes to stdout untouched, never through the bar's console
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.started = False

    def note(self, text: str) -> None:
        self.console.print(text, markup=False)

    def step(
        self,
        action: str,
        subject: str = "",
        *,
        count: int | None = None,
        unit: str = "rows",
        seconds: float | None = None,
        detail: str = "",
    ) -> None:
        line = format_step(action, subject, count=count, unit=unit, seconds=seconds, detail=detail)
        self.console.print(line, markup=False)

    def task(
        self, action: str, subject: str = "", *, total: int | None = None, unit: str = ""
    ) -> Task:
        if not self.started:
            self.bar.start()
            self.started = True
        return _RichTask(self, action, subject, total, unit)

    def close(self) -> None:
        if self.started:
            self.bar.stop()
            self.started = False


def for_cli(*, quiet: bool, stream: IO[str] | None = None) -> Reporter:
    """The reporter a command uses: silent under --quiet, plain lines when `stream` (stderr by
    default) is not a terminal or CI=true, else a live bar."""
    if quiet:
        return SILENT
    stream = stream or sys.stderr
    interactive = getattr(stream, "isatty", lambda: False)()
    if not interactive or os.environ.get("CI", "").lower() in {"true", "1"}:
        return LineReporter(stream)
    return RichReporter(stream)


# --- dbt ------------------------------------------------------------------------------------

#: How each dbt resource type is counted in the build line, in order.
DBT_RESOURCE_NAMES: Sequence[tuple[str, str, str]] = (
    ("seed", "seed", "seeds"),
    ("model", "model", "models"),
    ("snapshot", "snapshot", "snapshots"),
    ("test", "test", "tests"),
    ("unit_test", "unit test", "unit tests"),
)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


class DbtProgress:
    """A dbtRunner callback: reports the nodes of a dbt command as they finish (a line every
    tenth of them in logs, a bar on a terminal), then one line with the counts."""

    def __init__(self, reporter: Reporter, command: Sequence[str]) -> None:
        self.reporter = reporter
        self.action = command[0] if command else "dbt"
        self.task: Task | None = None
        self.types: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _task(self) -> Task:
        if self.task is None:
            self.task = self.reporter.task(self.action, "dbt", unit="nodes")
        return self.task

    def __call__(self, message: Any) -> None:
        name = message.info.name
        if name == "LogStartLine":
            total = int(message.data.total)
            with self.lock:
                task = self._task()
                if task.total is None and total:
                    task.set_total(total)
        elif name == "NodeFinished":
            info = message.data.node_info
            with self.lock:
                self.types[info.resource_type] += 1
                self.statuses[info.node_status] += 1
                task = self._task()
            task.advance(1)

    def finish(self) -> None:
        """Report the closing line (nothing when no node ran)."""
        if self.task is None:
            return
        known = {kind for kind, _, _ in DBT_RESOURCE_NAMES}
        parts = [
            _plural(self.types[kind], one, many)
            for kind, one, many in DBT_RESOURCE_NAMES
            if self.types[kind]
        ]
        parts += [
            _plural(n, kind, kind) for kind, n in sorted(self.types.items()) if kind not in known
        ]
        issues = [
            f"{status} {n}"
            for status, n in sorted(self.statuses.items())
            if status not in {"success", "pass"}
        ]
        detail = ", ".join(parts) + (f"; {', '.join(issues)}" if issues else "")
        self.task.done(count=sum(self.types.values()), detail=detail)
