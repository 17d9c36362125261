"""`audience bench`: build time, incremental time and memory at given event counts.

For each size (raw behavioural events: page views, tracked events, identify calls and email
events) one child process:

1. generates demo data with enough people for that many events (`generate`), and splits it
   by arrival time: the history, and the last 1 % of events to arrive (the "new day");
2. loads the history and runs a full build as of the split instant (`dbt build
   --full-refresh`, models, seeds and snapshots; data tests are timed by `make test`, not
   here), then the quality gates (`audience check`);
3. loads the new events and runs the daily build as of the end of the data: incremental;
4. times the baseline: one hand-written DuckDB query that scans every raw event once,
   parses its time and aggregates per person (identifier), the physical floor of the job.

Each child reports its peak resident memory (the whole process: generator, loader, dbt and
DuckDB). The parent prints a table and writes the results as JSON.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

#: Raw behavioural events per generated person (measured on the generator's output).
EVENTS_PER_PERSON = 85
EVENT_TABLES = ("pages", "tracks", "identifies", "email_events")
#: Where each event table keeps its arrival time (email events: their own time).
ARRIVAL_COLUMN = {"pages": "received_at", "tracks": "received_at", "identifies": "received_at"}
AS_OF = datetime(2026, 6, 30)
NEW_SHARE = 0.01
BENCH_MEMORY_LIMIT = "5GB"


@dataclass
class SizeResult:
    events_requested: int
    people: int
    events: int = 0
    new_events: int = 0
    split_at: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    #: peak resident memory of the process during each step, MB
    step_rss_mb: dict[str, float] = field(default_factory=dict)
    slowest_models: list[tuple[str, float]] = field(default_factory=list)
    slowest_incremental: list[tuple[str, float]] = field(default_factory=list)
    models_built: int = 0

    @property
    def incremental_share(self) -> float:
        full = self.seconds.get("full_build", 0.0)
        return self.seconds.get("incremental_build", 0.0) / full if full else 0.0

    @property
    def build_rss_mb(self) -> float:
        """The peak during the builds (full and incremental), the memory target's measure."""
        steps = ("full_build", "incremental_build")
        return max((self.step_rss_mb.get(step, 0.0) for step in steps), default=0.0)

    @property
    def baseline_ratio(self) -> float:
        baseline = self.seconds.get("baseline", 0.0)
        return self.seconds.get("full_build", 0.0) / baseline if baseline else 0.0


class PeakMemory:
    """The peak resident memory of this process during each step (sampled every 0.1 s)."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._step: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    @staticmethod
    def rss_mb() -> float:
        status = Path("/proc/self/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            step = self._step
            if step is not None:
                self.peaks[step] = max(self.peaks.get(step, 0.0), self.rss_mb())

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._step = name
        self.peaks[name] = self.rss_mb()
        try:
            yield
        finally:
            self.peaks[name] = round(max(self.peaks[name], self.rss_mb()), 1)
            self._step = None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def parse_size(text: str) -> int:
    """'1M' -> 1_000_000, '500k' -> 500_000, '50000000' -> 50_000_000."""
    value = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in "kmg" else value
    try:
        events = int(float(number) * scale)
    except ValueError:
        raise ValueError(f"not an event count: {text!r} (e.g. 1M, 500k, 10000000)") from None
    if events < 10_000:
        raise ValueError(f"{text}: a benchmark needs at least 10k events")
    return events


def _seconds(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def split_by_arrival(data: Path, history: Path, new: Path, share: float) -> tuple[str, int, int]:
    """Copy `data` into `history` and `new`: the last `share` of events to arrive go to `new`.

    Returns the split instant and the event counts (all, new)."""
    import duckdb

    history.mkdir(parents=True, exist_ok=True)
    new.mkdir(parents=True, exist_ok=True)
    from audience.warehouse import limit_memory

    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    limit_memory(con)

    def arrival(table: str) -> str:
        column = ARRIVAL_COLUMN.get(table, "timestamp")
        return (
            f"coalesce(try_cast(try_cast({column} as timestamptz) as timestamp), "
            "try_cast(try_cast(timestamp as timestamptz) as timestamp), timestamp '2000-01-01')"
        )

    union = " union all ".join(
        f"select {arrival(t)} as arrived from '{data / f'{t}.parquet'}'" for t in EVENT_TABLES
    )
    total, split_at = con.execute(
        f"select count(*), quantile_disc(arrived, {1 - share}) from ({union})"
    ).fetchone()
    new_events = 0
    for path in sorted(data.glob("*.parquet")):
        table = path.stem
        if table not in EVENT_TABLES:
            shutil.copy(path, history / path.name)
            continue
        when = f"{arrival(table)} < timestamp '{split_at}'"
        con.execute(f"copy (select * from '{path}' where {when}) to '{history / path.name}'")
        con.execute(f"copy (select * from '{path}' where not ({when})) to '{new / path.name}'")
        new_events += con.execute(f"select count(*) from '{new / path.name}'").fetchone()[0]
    con.close()
    return str(split_at), int(total), new_events


def baseline_query(con: Any) -> str:
    """The single pass: every raw event scanned once, its time parsed, aggregated per person."""
    parts = []
    for table in EVENT_TABLES:
        who = "lower(trim(email))" if table == "email_events" else "coalesce(user_id, anonymous_id)"
        parts.append(
            f"select {who} as person, '{table}' as source, "
            "try_cast(try_cast(timestamp as timestamptz) as timestamp) as occurred_at "
            f"from raw.{table}"
        )
    return f"""
        select person, count(*) as events, count(distinct source) as sources,
            min(occurred_at) as first_at, max(occurred_at) as last_at
        from ({" union all ".join(parts)}) as events
        group by person
    """


def _dbt_timings(result: Any) -> tuple[list[tuple[str, float]], float, int]:
    """(slowest ten models, snapshot seconds, models built) from a dbtRunner result."""
    timings: list[tuple[str, float]] = []
    snapshots = 0.0
    for node_result in result.result.results:
        node = node_result.node
        if node.resource_type == "snapshot":
            snapshots += node_result.execution_time
        elif node.resource_type == "model":
            timings.append((node.name, round(node_result.execution_time, 2)))
    timings.sort(key=lambda item: -item[1])
    return timings[:10], round(snapshots, 2), len(timings)


def run_size(events: int, workdir: Path) -> SizeResult:
    """Everything for one size, in this process (the CLI runs it in a child per size)."""
    import duckdb

    from audience.checks import run_checks
    from audience.dbt import run_dbt
    from audience.generator import generate
    from audience.loader import load_dir
    from audience.warehouse import DuckDBWarehouse, limit_memory

    people = max(100, math.ceil(events / EVENTS_PER_PERSON))
    result = SizeResult(events_requested=events, people=people)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    path = workdir / "bench.duckdb"
    os.environ["AUDIENCE_DUCKDB_PATH"] = str(path)
    os.environ["AUDIENCE_DUCKDB_TEMP_DIR"] = str(workdir / "tmp")
    os.environ["AUDIENCE_OUTPUT_DIR"] = str(workdir / "output")
    # DuckDB spills past this; with Python, dbt and Arrow around it, peak RSS stays under 8 GiB
    os.environ.setdefault("AUDIENCE_DUCKDB_MEMORY_LIMIT", BENCH_MEMORY_LIMIT)
    build = ["build", "--exclude-resource-type", "test", "unit_test", "--quiet"]
    memory = PeakMemory()

    @contextmanager
    def timed(step: str) -> Iterator[None]:
        started = time.perf_counter()
        with memory.step(step):
            yield
        result.seconds[step] = _seconds(started)

    def load(folder: Path) -> None:
        warehouse = DuckDBWarehouse(path)
        try:
            load_dir(folder, warehouse)
        finally:
            warehouse.close()

    try:
        with timed("generate"):
            generate(workdir / "data", people=people, seed=42, as_of=AS_OF)
        with timed("split"):
            split_at, result.events, result.new_events = split_by_arrival(
                workdir / "data", workdir / "history", workdir / "new", NEW_SHARE
            )
            shutil.rmtree(workdir / "data")
        result.split_at = split_at
        history_as_of = datetime.fromisoformat(split_at)
        with timed("load"):
            load(workdir / "history")
        with timed("full_build"):
            full = run_dbt([*build, "--full-refresh"], target="duckdb", as_of=history_as_of)
        result.slowest_models, result.seconds["snapshots"], result.models_built = _dbt_timings(full)
        with timed("checks"):
            checked = run_checks("duckdb", history_as_of, out=workdir / "output")
        if not checked.success:
            print(f"  (quality gates failed at {events:,} events; timed anyway)", file=sys.stderr)
        with timed("load_new"):
            load(workdir / "new")
        with timed("incremental_build"):
            incremental = run_dbt(build, target="duckdb", as_of=AS_OF)
        result.slowest_incremental, result.seconds["incremental_snapshots"], _ = _dbt_timings(
            incremental
        )
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("set timezone = 'UTC'")
            con.execute(f"set threads = {os.environ.get('AUDIENCE_DUCKDB_THREADS', '2')}")
            limit_memory(con)
            with timed("baseline"):
                con.execute(f"create temp table baseline as {baseline_query(con)}")
        finally:
            con.close()
    finally:
        memory.stop()
    result.step_rss_mb = dict(memory.peaks)
    result.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def machine() -> dict[str, Any]:
    import duckdb

    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "duckdb_threads": int(os.environ.get("AUDIENCE_DUCKDB_THREADS", "2")),
        "duckdb_memory_limit": os.environ.get("AUDIENCE_DUCKDB_MEMORY_LIMIT", BENCH_MEMORY_LIMIT),
        "platform": platform.platform(),
    }


def run_in_child(events: int, workdir: Path) -> SizeResult:
    """One size in a fresh process, so its peak memory is its own."""
    out = workdir / f"result-{events}.json"
    command = [
        sys.executable, "-m", "audience.cli", "bench", "--child", str(events),
        "--workdir", str(workdir), "--result", str(out),
    ]  # fmt: skip
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        code = completed.returncode
        raise RuntimeError(f"the benchmark at {events:,} events failed (exit {code})")
    data = json.loads(out.read_text())
    for key in ("slowest_models", "slowest_incremental"):
        data[key] = [tuple(item) for item in data[key]]
    return SizeResult(**data)


def to_dict(results: list[SizeResult], started_at: str) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "machine": machine(),
        "sizes": [
            {
                **asdict(r),
                "incremental_share": round(r.incremental_share, 3),
                "full_build_to_baseline": round(r.baseline_ratio, 1),
                "build_rss_mb": r.build_rss_mb,
            }
            for r in results
        ],
    }


def format_table(results: list[SizeResult]) -> str:
    header = (
        f"{'events':>12} {'people':>9} {'full build':>11} {'incremental':>12} {'share':>6} "
        f"{'snapshots':>10} {'checks':>7} {'baseline':>9} {'ratio':>6} {'build RSS':>10} "
        f"{'peak RSS':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        s = r.seconds
        lines.append(
            f"{r.events:>12,} {r.people:>9,} {s['full_build']:>10.1f}s "
            f"{s['incremental_build']:>11.1f}s {r.incremental_share:>6.1%} "
            f"{s['snapshots']:>9.1f}s {s['checks']:>6.1f}s {s['baseline']:>8.2f}s "
            f"{r.baseline_ratio:>5.1f}x {r.build_rss_mb / 1024:>8.2f}GB "
            f"{r.peak_rss_mb / 1024:>7.2f}GB"
        )
    for r in results:
        lines.append("")
        lines.append(
            f"{r.events:,} events: generate {r.seconds['generate']}s, split {r.seconds['split']}s, "
            f"load {r.seconds['load']}s, new events {r.new_events:,} (load "
            f"{r.seconds['load_new']}s); {r.models_built} models"
        )
        if r.step_rss_mb:
            peaks = ", ".join(f"{step} {mb / 1024:.2f}" for step, mb in r.step_rss_mb.items())
            lines.append(f"  peak RSS per step (GB): {peaks}")
        lines.append("  slowest in the full build:")
        lines.extend(f"    {seconds:>8.2f}s  {name}" for name, seconds in r.slowest_models)
        lines.append("  slowest in the incremental build:")
        lines.extend(f"    {seconds:>8.2f}s  {name}" for name, seconds in r.slowest_incremental)
    return "\n".join(lines)


def write_results(
    results: list[SizeResult],
    out_dir: Path,
    started_at: str,
    *,
    realtime: tuple[dict[str, Any], str] | None = None,
) -> Path:
    """results.json and results.txt; with `realtime` (its figures and their text, from
    audience.bench_realtime), the realtime path's latency too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = to_dict(results, started_at)
    if realtime is not None:
        figures["realtime"] = realtime[0]
    (out_dir / "results.json").write_text(json.dumps(figures, indent=2))
    m = machine()
    header = (
        f"audience bench, started {started_at}\n"
        f"machine: {m['cpus']} CPUs ({m['cpu'] or 'unknown CPU'}), {m['memory_gib']} GiB RAM, "
        f"{m['platform']}\nPython {m['python']}, DuckDB {m['duckdb']} "
        f"({m['duckdb_threads']} threads, memory limit {m['duckdb_memory_limit']})\n\n"
    )
    text = header + format_table(results) + "\n"
    if realtime is not None:
        text += "\n" + realtime[1] + "\n"
    (out_dir / "results.txt").write_text(text)
    return out_dir / "results.json"


def default_workdir() -> Path:
    return Path(os.environ.get("AUDIENCE_BENCH_DIR", "warehouse/bench"))


def now_text() -> str:
    return datetime.now().replace(microsecond=0).isoformat()


__all__ = [
    "SizeResult",
    "baseline_query",
    "default_workdir",
    "format_table",
    "now_text",
    "parse_size",
    "run_in_child",
    "run_size",
    "split_by_arrival",
    "write_results",
]
