"""The realtime path's latency, event to notification, as the on-call deployment runs it.

One demo warehouse is built as of now (`audience run`), every HTTP destination pointed at a
local stand-in. Then, one lead at a time: a file of one visitor's high-intent events lands
in the landing folder; the sensor `high_intent_events` is ticked and asks for a realtime
run; the `realtime_refresh` job runs in this process (what the run worker does) and the
lead-routing webhook's stand-in hears of the lead. The latency is from the file landing to
the webhook hearing of that lead, measured by a watcher on the stand-in. In a deployment
the Dagster daemon ticks the sensor every `minimum_interval_seconds` and a run launcher
starts a process for the run: both are added to the figures as they are configured, not
measured here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from audience.contract import RAW_TABLES
from audience.project import environment, project_dir

#: the events one visitor's file holds: what takes a known prospect over the MQL bar
HIGH_INTENT = ("Demo Requested", "Trial Started")
#: the runs' own log lines (each step and each dbt node) kept off the benchmark's output
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class RealtimeResult:
    people: int
    #: seconds from a file landing to the webhook hearing of its lead, one per event file
    latencies: list[float] = field(default_factory=list)
    #: seconds of the sensor's tick, and of the realtime run, per event file
    sensor_seconds: list[float] = field(default_factory=list)
    run_seconds: list[float] = field(default_factory=list)
    #: seconds per step of the realtime run (op name -> one figure per run)
    step_seconds: dict[str, list[float]] = field(default_factory=dict)
    assets: int = 0
    sensor_interval_seconds: int = 0
    setup_seconds: float = 0.0
    #: leads whose file never reached the webhook (a failed run, or no routing)
    missed: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100); NaN of no values."""
    ranked = sorted(values)
    if not ranked:
        return math.nan
    return ranked[max(0, math.ceil(q / 100 * len(ranked)) - 1)]


def load_definitions() -> ModuleType:
    path = project_dir() / "orchestration" / "definitions.py"
    spec = importlib.util.spec_from_file_location("audience_definitions_bench", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the Dagster definitions at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def land_high_intent_file(landing: Path, anonymous_id: str, at: datetime, name: str) -> Path:
    """A new file of table tracks (in the landing folder's `tracks/`): one visitor's demo
    requests and trial starts of the last minute and a half. It is written under a scratch
    name the loader skips, then renamed: it lands whole."""
    folder = landing / "tracks"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.csv"
    scratch = folder / f".{name}.csv.partial"
    columns = RAW_TABLES["tracks"].columns
    with scratch.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for number, event in enumerate(HIGH_INTENT * 4):
            happened = at - timedelta(seconds=90 - 10 * number)
            writer.writerow(
                {
                    "id": f"{name}-{number}",
                    "anonymous_id": anonymous_id,
                    "event": event,
                    "timestamp": f"{happened:%Y-%m-%d %H:%M:%S}",
                    "received_at": f"{happened + timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
                    "properties": "{}",
                    "session_id": f"{name}-session",
                }
            )
    scratch.rename(path)
    return path


class Watcher:
    """Notes when the webhook stand-in first hears of each contact (polled every 10 ms)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.heard: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            for body in list(self.state.notified):
                contact = json.loads(body).get("contact_key")
                if contact and contact not in self.heard:
                    self.heard[contact] = time.perf_counter()

    def wait_for(self, contact: str, timeout: float) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if contact in self.heard:
                return self.heard[contact]
            time.sleep(0.01)
        return self.heard.get(contact)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def prospects(path: Path, count: int) -> list[tuple[str, str]]:
    """Known prospects not yet routed, with an anonymous id, best fit first: (contact_key,
    anonymous_id), one per contact."""
    from audience.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path)
    try:
        rows = warehouse.query(
            "select c.contact_key, min(m.identifier) from marts.contacts c "
            "join marts.identity_map m on m.contact_key = c.contact_key "
            "and m.identifier_type = 'anonymous_id' where not c.is_customer "
            "and c.primary_email is not null and c.fit_score >= 40 and c.contact_key not in "
            "(select contact_key from marts.segment_membership where segment_id = 'mql_routed') "
            "group by c.contact_key, c.fit_score order by c.fit_score desc, c.contact_key "
            f"limit {int(count)}"
        )
    finally:
        warehouse.close()
    return [(str(contact), str(anonymous)) for contact, anonymous in rows]


def _wall_clock() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@contextmanager
def _world(workdir: Path) -> Iterator[tuple[Any, Path, Path]]:
    from audience.devservers import ApiState, Server

    state = ApiState()
    server = Server(state)
    output = workdir / "output"
    try:
        with environment(
            AUDIENCE_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
            AUDIENCE_OUTPUT_DIR=str(output),
            AUDIENCE_LANDING_DIR=str(output / "demo-data"),
            AUDIENCE_LISTS_API_URL=server.url,
            AUDIENCE_ROUTING_WEBHOOK_URL=f"{server.url}/webhook",
        ):
            yield state, workdir / "warehouse.duckdb", output / "demo-data"
    finally:
        server.close()


def run(workdir: Path, *, events: int = 20, people: int = 200, seed: int = 7) -> RealtimeResult:
    """Build the demo warehouse, then send `events` files of high-intent events, one lead
    each, through the sensor and the realtime job; the latencies and where they went."""
    import shutil

    import dagster as dg

    from audience.cli import main

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    result = RealtimeResult(people=people)
    with _world(workdir) as (state, path, landing):
        started = time.perf_counter()
        if main(["-q", "run", "--people", str(people), "--seed", str(seed)]) != 0:
            raise RuntimeError("audience run failed: the realtime benchmark needs its warehouse")
        result.setup_seconds = round(time.perf_counter() - started, 1)
        definitions = load_definitions()
        sensor = definitions.high_intent_events
        result.sensor_interval_seconds = int(sensor.minimum_interval_seconds or 0)
        job = definitions.defs.resolve_job_def("realtime_refresh")
        result.assets = len(job.asset_layer.selected_asset_keys)
        leads = prospects(path, events)
        if len(leads) < events:
            print(f"bench realtime: {len(leads)} prospects to route, not {events}")
        watcher = Watcher(state)
        with dg.DagsterInstance.ephemeral() as instance:
            cursor = sensor(dg.build_sensor_context(instance=instance)).cursor
            for number, (contact, anonymous_id) in enumerate(leads):
                landed = time.perf_counter()
                at = _wall_clock()
                land_high_intent_file(
                    landing, anonymous_id, at, f"realtime-{at:%Y%m%d}-{number:03d}"
                )
                tick = sensor(dg.build_sensor_context(cursor=cursor, instance=instance))
                cursor = tick.cursor
                ticked = time.perf_counter()
                result.sensor_seconds.append(round(ticked - landed, 3))
                requests = list(tick.run_requests or [])
                if not requests:
                    result.missed.append(contact)
                    continue
                (request,) = requests
                run_result = job.execute_in_process(
                    partition_key=request.partition_key,
                    tags=request.tags,
                    instance=instance,
                    raise_on_error=False,
                    run_config=QUIET_RUN,
                )
                result.run_seconds.append(round(time.perf_counter() - ticked, 3))
                for event in run_result.all_events:
                    if event.event_type_value == "STEP_SUCCESS" and event.step_key:
                        seconds = event.event_specific_data.duration_ms / 1000
                        result.step_seconds.setdefault(event.step_key, []).append(round(seconds, 3))
                heard = watcher.wait_for(contact, timeout=5.0)
                if heard is None or not run_result.success:
                    result.missed.append(contact)
                    continue
                result.latencies.append(round(heard - landed, 3))
        watcher.stop()
    return result


def to_dict(result: RealtimeResult) -> dict[str, Any]:
    return {
        "people": result.people,
        "events": len(result.latencies) + len(result.missed),
        "notified": len(result.latencies),
        "missed": result.missed,
        "latency_p50_seconds": result.percentile(50),
        "latency_p99_seconds": result.percentile(99),
        "latency_max_seconds": max(result.latencies, default=math.nan),
        "latencies_seconds": result.latencies,
        "sensor_seconds": result.sensor_seconds,
        "run_seconds": result.run_seconds,
        "step_p50_seconds": {
            step: percentile(values, 50) for step, values in sorted(result.step_seconds.items())
        },
        "assets_per_run": result.assets,
        "sensor_interval_seconds": result.sensor_interval_seconds,
        "setup_seconds": result.setup_seconds,
    }


def format_result(result: RealtimeResult) -> str:
    sent = len(result.latencies) + len(result.missed)
    lines = [
        f"realtime: a file of high-intent events landed -> its lead at the routing webhook "
        f"({sent} files, one lead each; demo warehouse of {result.people} people, "
        f"{result.assets} assets per realtime run)",
        f"  latency p50 {result.percentile(50):.1f}s, p99 {result.percentile(99):.1f}s, "
        f"max {max(result.latencies, default=math.nan):.1f}s; "
        f"{len(result.latencies)} notified, {len(result.missed)} missed",
        f"  sensor tick p50 {percentile(result.sensor_seconds, 50):.2f}s, run p50 "
        f"{percentile(result.run_seconds, 50):.1f}s; a deployment adds up to "
        f"{result.sensor_interval_seconds}s of sensor interval and a run process's start",
    ]
    steps = sorted(
        ((percentile(v, 50), step) for step, v in result.step_seconds.items()), reverse=True
    )
    lines.append("  slowest steps of a run (p50):")
    lines.extend(f"    {seconds:>8.2f}s  {step}" for seconds, step in steps[:6])
    return "\n".join(lines)
