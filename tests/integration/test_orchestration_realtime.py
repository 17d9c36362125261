"""The on-call path, in the order a deployment produces it, on one small warehouse:

`audience run` (what `make run` does: as of now) -> the daily job for the partition that
ended at 00:00 today (older than that build) -> a file with high-intent events lands -> the
sensor sees it and asks for a realtime run -> the run loads only that file, rebuilds the
realtime path as of now and notifies the lead-routing webhook once -> the daily job again
(older than the realtime build, as the 00:30 schedule after a 00:10 realtime run) -> the
next day's daily job. Every run is green, nothing is retried, the history keeps every build.
Then plain dbt (no `as_of` var) builds as of now, and a broken build fails once with dbt's
error as the headline.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time
from warehouses import environment

from audience.cli import main
from audience.contract import RAW_TABLES
from audience.devservers import ApiState, Server
from audience.project import project_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow


def wall_clock() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class World:
    """One warehouse and its landing folder, the destinations' stand-ins and one instance."""

    definitions: ModuleType
    workdir: Path
    landing: Path
    state: ApiState
    server: Server
    instance: dg.DagsterInstance
    made_as_of: datetime
    runs: list[dg.ExecuteInProcessResult] = field(default_factory=list)
    notes: dict[str, float] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    def query(self, sql: str) -> list[tuple]:
        warehouse = DuckDBWarehouse(self.path)
        try:
            return warehouse.query(sql)
        finally:
            warehouse.close()

    def execute(self, sql: str) -> None:
        warehouse = DuckDBWarehouse(self.path)
        try:
            warehouse.execute(sql)
        finally:
            warehouse.close()

    def run(self, job: str, partition: str, tags: dict[str, str] | None = None):
        result = self.definitions.defs.resolve_job_def(job).execute_in_process(
            partition_key=partition, tags=tags, instance=self.instance, raise_on_error=False
        )
        self.runs.append(result)
        return result


def load_definitions() -> ModuleType:
    path = project_dir() / "orchestration" / "definitions.py"
    spec = importlib.util.spec_from_file_location("audience_definitions_realtime", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """`make run` on small demo data (60 people), as of now, with every HTTP destination
    configured: the lead-routing webhook hears of every routed lead of that build."""
    workdir = tmp_path_factory.mktemp("oncall")
    state = ApiState()
    server = Server(state)
    output = workdir / "output"
    try:
        with (
            environment(
                AUDIENCE_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
                AUDIENCE_OUTPUT_DIR=str(output),
                AUDIENCE_LANDING_DIR=str(output / "demo-data"),
                AUDIENCE_LISTS_API_URL=server.url,
                AUDIENCE_ROUTING_WEBHOOK_URL=f"{server.url}/webhook",
            ),
            dg.instance_for_test() as instance,
        ):
            assert main(["-q", "run", "--people", "60", "--seed", "7"]) == 0
            summary = json.loads((output / "run_summary.json").read_text())
            made_as_of = datetime.strptime(summary["as_of"], "%Y-%m-%d %H:%M:%S")
            yield World(
                load_definitions(),
                workdir,
                output / "demo-data",
                state,
                server,
                instance,
                made_as_of,
            )
    finally:
        server.close()


def events(result: dg.ExecuteInProcessResult, kind: str) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type_value == kind]


def steps(result: dg.ExecuteInProcessResult, kind: str) -> set[str]:
    return {e.step_key for e in events(result, kind) if e.step_key}


def synced(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """sync asset -> its status, for each sync materialized in the run."""
    return {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata["status"].value
        for e in events(result, "ASSET_MATERIALIZATION")
        if e.asset_key.to_user_string().startswith("sync/")
    }


def assert_green_once(result: dg.ExecuteInProcessResult) -> None:
    failures = [e.event_specific_data.error for e in events(result, "STEP_FAILURE")]
    assert result.success, failures
    assert not steps(result, "STEP_UP_FOR_RETRY")


def builds(world: World) -> list[str]:
    """The instants the membership history was built as of."""
    rows = world.query(
        "select cast(built_as_of as varchar) from snapshots.segment_membership_snapshot__builds "
        "order by built_as_of"
    )
    return [row[0] for row in rows]


def members_as_of(world: World, at: datetime) -> set[tuple[str, str]]:
    """(segment, contact) pairs the membership history holds at an instant."""
    rows = world.query(
        "select segment_id, contact_key from marts.segment_membership_history "
        f"where valid_from <= cast('{at}' as timestamp) "
        f"and (valid_to is null or valid_to > cast('{at}' as timestamp))"
    )
    return set(rows)


def midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0)


def test_make_run_then_the_daily_job_for_the_day_that_ended(world):
    """`make run` built as of now; the schedule's partition ends at 00:00 today, before that
    build. The daily job builds it (setting the history at 00:00 and keeping the later
    build), fails nothing, retries nothing."""
    today = midnight(world.made_as_of)
    partition = (today - timedelta(days=1)).strftime("%Y-%m-%d")
    members_then = members_as_of(world, world.made_as_of)

    with environment(AUDIENCE_DUCKDB_PATH=str(world.path)):
        result = world.run("daily_refresh", partition)

    assert_green_once(result)
    assert {"raw_tables", "raw_quality_gates", "dbt_models", "mart_quality_gates"} <= steps(
        result, "STEP_SUCCESS"
    )
    assert f"{today:%Y-%m-%d %H:%M:%S}" in builds(world)
    assert f"{world.made_as_of:%Y-%m-%d %H:%M:%S}" in builds(world)
    # who was in which segment as of the later build is as it was; the destinations
    # already have that picture
    assert members_as_of(world, world.made_as_of) == members_then
    assert members_as_of(world, today)
    assert set(synced(result).values()) <= {"skipped"}
    # the re-load of unchanged files wrote nothing: nothing new for the sensor either
    (loaded,) = [
        e.event_specific_data.materialization.metadata
        for e in events(result, "ASSET_MATERIALIZATION")
        if e.asset_key.to_user_string() == "segment/tracks"
    ]
    assert loaded["rows"].value == 0 and loaded["unchanged files"].value == 1


def pick_lead(world: World) -> tuple[str, str, str]:
    """A known, not yet routed prospect with an anonymous id, the best fit first (demo
    requests then take their lead score over the MQL bar)."""
    rows = world.query(
        "select c.contact_key, c.primary_email, m.identifier from marts.contacts c "
        "join marts.identity_map m on m.contact_key = c.contact_key "
        "and m.identifier_type = 'anonymous_id' where not c.is_customer "
        "and c.primary_email is not null and c.fit_score >= 40 and c.contact_key not in "
        "(select contact_key from marts.segment_membership where segment_id = 'mql_routed') "
        "order by c.fit_score desc, c.contact_key, m.identifier limit 1"
    )
    assert rows, "no prospect with a fit to route"
    return rows[0]


def land_demo_requests(landing: Path, anonymous_id: str, at: datetime) -> Path:
    """A new file of table tracks beside the day's export (a date shard): demo requests and
    trial starts of one visitor in the last minutes."""
    path = landing / f"tracks_{at:%Y%m%d}.csv"
    columns = RAW_TABLES["tracks"].columns
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for number, event in enumerate(["Demo Requested", "Trial Started"] * 4):
            happened = at - timedelta(seconds=90 - 10 * number)
            writer.writerow(
                {
                    "id": f"rt-{at:%H%M%S}-{number}",
                    "anonymous_id": anonymous_id,
                    "event": event,
                    "timestamp": f"{happened:%Y-%m-%d %H:%M:%S}",
                    "received_at": f"{happened + timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
                    "properties": "{}",
                    "session_id": f"rt-session-{at:%H%M%S}",
                }
            )
    return path


def land_the_days_email_events(landing: Path, at: datetime) -> Path:
    """A date shard of table email_events: the latest few events of the export again, as
    new events of the last hour."""
    import duckdb

    (export,) = landing.glob("email_events.*")
    reader = duckdb.connect()
    try:
        # the good rows only: the demo export carries planted bad rows (a timestamp that is
        # "not-a-date", no email), which the loader quarantines and a copy would repeat
        cursor = reader.execute(
            f"select * from '{export}' where try_cast(timestamp as timestamp) is not null "
            "and email like '%_@_%' order by try_cast(timestamp as timestamp) desc limit 5"
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        reader.close()
    path = landing / f"email_events_{at:%Y%m%d}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RAW_TABLES["email_events"].columns)
        writer.writeheader()
        for number, row in enumerate(rows):
            happened = at - timedelta(minutes=5 * (number + 1))
            row |= {"event_id": f"rt-{at:%H%M%S}-{number}", "timestamp": f"{happened}"}
            writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in writer.fieldnames})
    return path


def routed(world: World, contact: str) -> bool:
    return bool(
        world.query(
            "select 1 from marts.segment_membership "
            f"where segment_id = 'mql_routed' and contact_key = '{contact}'"
        )
    )


def test_a_landed_file_of_demo_requests_reaches_the_lead_routing_webhook_once(world):
    definitions = world.definitions
    with environment(AUDIENCE_DUCKDB_PATH=str(world.path), AUDIENCE_LANDING_DIR=str(world.landing)):
        # the sensor's first tick notes what is there: history is not news
        first = definitions.high_intent_events(dg.build_sensor_context(instance=world.instance))
        assert not first.run_requests
        cursor = first.cursor
        assert json.loads(cursor) and "tracks.parquet" in json.loads(cursor)

        contact, email, anonymous_id = pick_lead(world)
        notified_before = sum(world.state.notified.values())
        landed_at = time.perf_counter()
        file = land_demo_requests(world.landing, anonymous_id, wall_clock())

        tick = definitions.high_intent_events(
            dg.build_sensor_context(cursor=cursor, instance=world.instance)
        )
        (request,) = tick.run_requests
        assert json.loads(request.tags[definitions.FILES_TAG]) == [file.name]
        assert request.tags["audience/high_intent_events"] == "8"
        as_of = datetime.strptime(request.tags[definitions.AS_OF_TAG], "%Y-%m-%d %H:%M:%S")
        assert as_of >= world.made_as_of
        assert request.partition_key == (midnight(as_of) - timedelta(days=1)).strftime("%Y-%m-%d")
        # nothing new since: the next tick skips
        again = definitions.high_intent_events(
            dg.build_sensor_context(cursor=tick.cursor, instance=world.instance)
        )
        assert not again.run_requests

        result = world.run("realtime_refresh", request.partition_key, request.tags)
        world.notes["event_to_webhook_seconds"] = time.perf_counter() - landed_at

    assert_green_once(result)
    # the load read the new file only
    (loaded,) = [
        e.event_specific_data.materialization.metadata
        for e in events(result, "ASSET_MATERIALIZATION")
        if e.asset_key.to_user_string() == "segment/tracks"
    ]
    assert loaded["file"].value == file.name and loaded["rows"].value == 8
    materialized = {e.asset_key.to_user_string() for e in events(result, "ASSET_MATERIALIZATION")}
    assert {"segments/mql_routed", "marts/contacts", "marts/contact_score_signals"} <= materialized
    assert "segments/lookalike_best_customers" not in materialized  # a daily segment
    assert synced(result)["sync/lead_routing"] == "success"
    # the lead was routed as of the run's instant, and the webhook heard of it once
    assert routed(world, contact)
    notified = [json.loads(body) for body in world.state.notified]
    assert sum(world.state.notified.values()) == notified_before + 1
    assert [n for n in notified if n.get("contact_key") == contact] == [
        n for n in notified if n.get("email") == email
    ]
    assert sum(1 for n in notified if n.get("contact_key") == contact) == 1
    assert f"{as_of:%Y-%m-%d %H:%M:%S}" in builds(world)
    job = definitions.defs.resolve_job_def("realtime_refresh")
    print(
        f"landed file to webhook: {world.notes['event_to_webhook_seconds']:.1f} s "
        f"({len(job.asset_layer.selected_asset_keys)} assets rebuilt)"
    )


def test_the_daily_jobs_after_the_realtime_build_are_green_and_keep_its_history(world):
    """The 00:30 run for the day that ended (older than the realtime build), then the next
    day's run (later than every build)."""
    definitions = world.definitions
    today = midnight(world.made_as_of)
    instants_before = builds(world)
    notified_before = sum(world.state.notified.values())
    with environment(AUDIENCE_DUCKDB_PATH=str(world.path), AUDIENCE_LANDING_DIR=str(world.landing)):
        older = world.run("daily_refresh", f"{today - timedelta(days=1):%Y-%m-%d}")
        assert_green_once(older)
        assert builds(world) == instants_before
        assert set(synced(older).values()) <= {"skipped"}

        # its re-load of the folder re-read the realtime file unchanged: the sensor has
        # nothing to say
        landed = definitions.landed_files()
        state = {name: definitions.fingerprint(f.path) for name, f in landed.items()}
        tick = definitions.high_intent_events(
            dg.build_sensor_context(cursor=json.dumps(state), instance=world.instance)
        )
        assert not tick.run_requests

    # the day's email events arrive (small demo data sends few emails: without them the
    # freshness gate would rightly stop the next build)
    land_the_days_email_events(world.landing, wall_clock())

    # the schedule's next tick, tomorrow at 00:30 (the clock Dagster reads is moved there: the
    # partition of today exists once it ended)
    tomorrow = today + timedelta(days=1)
    tick_time = tomorrow.replace(minute=30, tzinfo=UTC)
    schedule = definitions.defs.resolve_schedule_def("daily_refresh_schedule")
    (request,) = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=tick_time)
    ).run_requests
    assert request.partition_key == f"{today:%Y-%m-%d}"
    with (
        freeze_time(tick_time),
        environment(AUDIENCE_DUCKDB_PATH=str(world.path), AUDIENCE_LANDING_DIR=str(world.landing)),
    ):
        later = world.run("daily_refresh", request.partition_key)
    assert_green_once(later)
    assert builds(world)[-1] == f"{today + timedelta(days=1):%Y-%m-%d %H:%M:%S}"
    assert "skipped" not in {synced(later).get("sync/marketing_lists")}
    # a routed lead is notified once, ever
    assert sum(world.state.notified.values()) - notified_before == len(
        world.query(
            "select 1 from marts.segment_transitions where segment_id = 'mql_routed' "
            f"and transition = 'entered' and transitioned_at = cast('{today + timedelta(days=1)}'"
            " as timestamp)"
        )
    )
    runs = len(world.runs)
    retried = sum(len(steps(r, "STEP_UP_FOR_RETRY")) for r in world.runs)
    print(f"{runs} runs, {retried} step retries")
    assert retried == 0


def test_plain_dbt_builds_as_of_now(world):
    """`dbt run -s contacts` with no vars, from the project root: as of the moment dbt
    started (later than every build the history holds), not a fixed day."""
    started = wall_clock()
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "run", "-s", "contacts", "--profiles-dir", "."],
        cwd=project_dir(),
        env={**os.environ, "AUDIENCE_DUCKDB_PATH": str(world.path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    ((as_of,),) = world.query("select distinct cast(as_of as varchar) from marts.contacts")
    assert started <= datetime.strptime(as_of, "%Y-%m-%d %H:%M:%S") <= wall_clock()


def test_a_broken_build_fails_once_with_dbt_s_error_as_the_headline(world):
    """A deterministic dbt failure (a model whose input is gone) is not retried: one
    failure, the failing node and dbt's message in its description."""
    definitions = world.definitions
    signals = definitions.model_key("contact_score_signals")
    world.execute("drop table intermediate.int_contact_signal_points")
    with environment(AUDIENCE_DUCKDB_PATH=str(world.path)):
        result = definitions.defs.resolve_job_def("daily_refresh").execute_in_process(
            asset_selection=[signals],
            partition_key=f"{midnight(world.made_as_of) - timedelta(days=1):%Y-%m-%d}",
            instance=world.instance,
            raise_on_error=False,
        )
    assert not result.success
    assert not steps(result, "STEP_UP_FOR_RETRY")
    (failure,) = events(result, "STEP_FAILURE")
    description = failure.event_specific_data.user_failure_data.description
    assert description.startswith("dbt build as of ")
    assert "model.audience.contact_score_signals" in description
    assert "int_contact_signal_points" in description
