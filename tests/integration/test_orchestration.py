"""The Dagster code location: the asset graph loads, the schedule asks for the right day,
the daily job runs load -> checks -> build -> checks -> syncs in process, and a failed
quality gate stops what is downstream of it."""

from __future__ import annotations

import importlib.util
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest
from warehouses import environment

from audience.contract import RAW_TABLES
from audience.devservers import ApiState, Server
from audience.project import project_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
PARTITION = "2026-06-29"  # built as of its end, 2026-06-30 00:00


def load_definitions(name: str = "audience_definitions") -> ModuleType:
    path = project_dir() / "orchestration" / "definitions.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def definitions() -> ModuleType:
    return load_definitions()


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    from audience.generator import generate

    folder = tmp_path_factory.mktemp("landing") / "data"
    generate(folder, people=300, seed=5, as_of=AS_OF)
    return folder


def test_every_model_seed_snapshot_load_check_and_sync_is_in_the_graph(definitions):
    defs = definitions.defs
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"segment/pages", "crm/crm_contacts", "marts/contacts", "sync/crm"} <= keys
    assert "snapshots/segment_membership_snapshot" in keys
    assert "seeds/scoring_weights" in keys
    syncs = ("crm", "marketing_lists", "ad_audiences", "lead_routing")
    assert {f"sync/{name}" for name in syncs} <= keys
    checks = {key.name for key in graph.asset_check_keys}
    assert {"raw_freshness", "raw_volume", "contact_validity", "membership_validity"} <= checks
    assert any(name.startswith("not_null_") for name in checks)  # dbt tests
    # syncs sit downstream of the export they send
    sync_crm = graph.get(dg.AssetKey(["sync", "crm"]))
    assert dg.AssetKey(["marts", "export_crm_contacts"]) in sync_crm.parent_keys
    # every step that writes the warehouse shares one pool
    assert definitions.dbt_models.op.pool == "warehouse"
    assert definitions.raw_tables.op.pool == "warehouse"


def test_the_schedule_asks_for_yesterday_as_of_midnight(definitions):
    schedule = definitions.defs.resolve_schedule_def("daily_refresh_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 6, 30, 0, 30, tzinfo=UTC)
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == PARTITION
    assert definitions.as_of_for(request.partition_key) == AS_OF
    assert definitions.daily_refresh.tags["dagster/max_retries"] == "2"


def run_daily(definitions, landing: Path, workdir: Path) -> dg.ExecuteInProcessResult:
    job = definitions.defs.resolve_job_def("daily_refresh")
    with (
        environment(
            AUDIENCE_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
            AUDIENCE_OUTPUT_DIR=str(workdir / "output"),
            AUDIENCE_LANDING_DIR=str(landing),
        ),
        dg.instance_for_test() as instance,
    ):
        return job.execute_in_process(
            partition_key=PARTITION, instance=instance, raise_on_error=False
        )


def steps(result: dg.ExecuteInProcessResult, kind: str) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == kind}


@pytest.fixture(scope="module")
def daily(definitions, landing, tmp_path_factory) -> tuple[dg.ExecuteInProcessResult, Path]:
    """The daily job run once; the realtime test goes on from its warehouse."""
    workdir = tmp_path_factory.mktemp("daily")
    state = ApiState()
    server = Server(state)
    try:
        with environment(AUDIENCE_LISTS_API_URL=server.url):
            result = run_daily(definitions, landing, workdir)
    finally:
        server.close()
    return result, workdir


def test_the_daily_job_loads_checks_builds_and_syncs(daily):
    result, tmp_path = daily

    assert result.success
    succeeded = steps(result, "STEP_SUCCESS")
    assert {"raw_tables", "raw_quality_gates", "dbt_models", "mart_quality_gates"} <= succeeded
    assert {"sync__ad_audiences", "sync__crm", "sync__marketing_lists"} <= succeeded
    # the destinations not configured here (CRM, lead routing) are not materialized
    synced = {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.asset_key.to_user_string().startswith("sync/")
    }
    assert synced == {"sync/ad_audiences", "sync/marketing_lists"}
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    gx = [c for c in evaluations if c.check_name in {"mart_freshness", "contact_validity"}]
    assert gx and all(c.passed for c in gx)
    assert (tmp_path / "output" / "ad_audiences" / "meta").is_dir()
    assert (tmp_path / "output" / "data_docs" / "index.html").exists()


def test_a_failed_quality_gate_stops_the_build_and_the_syncs(definitions, landing, tmp_path):
    # the tracking pipeline broke: the tracks export came empty, raw.tracks is empty (a table
    # never provided at all is not checked: a user may not have it)
    broken = tmp_path / "landing"
    shutil.copytree(landing, broken)
    next(broken.glob("tracks.*")).unlink()
    (broken / "tracks.csv").write_text(",".join(RAW_TABLES["tracks"].columns) + "\n")

    result = run_daily(definitions, broken, tmp_path)

    assert not result.success
    failed_checks = {
        (c.asset_key.to_user_string(), c.check_name)
        for c in (
            e.event_specific_data
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        if not c.passed
    }
    assert ("segment/tracks", "raw_volume") in failed_checks
    assert ("segment/tracks", "raw_freshness") in failed_checks
    # each verdict is on the table it concerns, not on every raw table
    assert {asset for asset, _ in failed_checks} == {"segment/tracks"}
    # a failed gate is not retried: the data would fail it again; the failures are the
    # headline
    assert not steps(result, "STEP_UP_FOR_RETRY")
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "raw_quality_gates"
    description = failure.event_specific_data.user_failure_data.description
    assert "critical quality check(s) failed" in description.splitlines()[0]
    assert "segment/tracks: raw_volume" in description
    ran = steps(result, "STEP_SUCCESS") | steps(result, "STEP_FAILURE")
    assert "dbt_models" not in ran
    assert not {step for step in ran if step.startswith("sync__")}
    assert not (tmp_path / "output" / "ad_audiences").exists()


def test_high_intent_events_trigger_a_small_realtime_refresh_that_syncs(
    definitions, daily, landing
):
    _, workdir = daily
    path = workdir / "warehouse.duckdb"
    total = len(definitions.defs.resolve_asset_graph().get_all_asset_keys())
    job = definitions.defs.resolve_job_def("realtime_refresh")
    rebuilt = len(job.asset_layer.selected_asset_keys)
    assert rebuilt < total / 2, (rebuilt, total)

    with environment(AUDIENCE_DUCKDB_PATH=str(path), AUDIENCE_LANDING_DIR=str(landing)):
        # a known contact requests a demo in the morning after the nightly build (a row
        # streamed into raw; a landed file is tests/integration/test_orchestration_realtime.py)
        warehouse = DuckDBWarehouse(path)
        try:
            contact, email, anonymous_id = warehouse.query(
                "select c.contact_key, c.primary_email, m.identifier from marts.contacts c "
                "join marts.identity_map m on m.contact_key = c.contact_key "
                "and m.identifier_type = 'anonymous_id' where not c.is_customer "
                "and c.primary_email is not null and c.contact_key not in (select contact_key "
                "from marts.segment_membership where segment_id = 'demo_requested') "
                "order by c.contact_key limit 1"
            )[0]
            landed = datetime.now(UTC).replace(tzinfo=None)
            warehouse.execute(
                "insert into raw.tracks (id, anonymous_id, user_id, event, timestamp, "
                "received_at, _source_file, _source_row_number, _loaded_at) values "
                "('rt-1', ?, null, 'Demo Requested', '2026-06-30 08:59:00', "
                "'2026-06-30 08:59:01', 'stream', 1, ?)",
                (anonymous_id, landed),
            )
        finally:
            warehouse.close()

        started = time.perf_counter()
        request = dg.RunRequest(
            partition_key=PARTITION,  # the latest day; as_of within the next
            tags={definitions.AS_OF_TAG: "2026-06-30 09:00:00"},
        )

        state = ApiState()
        server = Server(state)
        try:
            with (
                environment(
                    AUDIENCE_OUTPUT_DIR=str(workdir / "output"), AUDIENCE_LISTS_API_URL=server.url
                ),
                dg.instance_for_test() as instance,
            ):
                result = job.execute_in_process(
                    partition_key=request.partition_key,
                    tags=request.tags,
                    instance=instance,
                    raise_on_error=False,
                )
        finally:
            server.close()
        seconds = time.perf_counter() - started

    assert result.success
    materialized = {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert "segments/demo_requested" in materialized and "sync/marketing_lists" in materialized
    assert "segments/lookalike_best_customers" not in materialized  # daily: not rebuilt
    # the event files are loaded again: unchanged, nothing written (the streamed row stays)
    assert "raw_tables" in steps(result, "STEP_SUCCESS")
    # the contact entered demo_requested as of 09:00 and its list got the member
    assert email in state.lists["demo_requested"]
    warehouse = DuckDBWarehouse(path)
    try:
        assert demo_requested_transitions(warehouse, contact) == [
            ("entered", "2026-06-30 09:00:00")
        ]
    finally:
        warehouse.close()
    print(f"high-intent event to synced transition: {seconds:.1f} s ({rebuilt}/{total} assets)")

    # then the daily job for the same day runs again (as the schedule at 00:30 does after a
    # realtime build at 00:10): its as_of, midnight, is before the realtime build's. It builds,
    # the 09:00 entry stays in the history, and the list keeps the member the realtime sync
    # added: the sync skips a picture older than the one the destination has.
    server = Server(state)  # the same destination, serving again
    try:
        with environment(AUDIENCE_LISTS_API_URL=server.url):
            again = run_daily(definitions, landing, workdir)
    finally:
        server.close()
    assert again.success
    assert email in state.lists["demo_requested"]
    synced = {
        e.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in again.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.asset_key.to_user_string().startswith("sync/")
    }
    assert synced["sync/marketing_lists"]["status"].value == "skipped"
    warehouse = DuckDBWarehouse(path)
    try:
        assert demo_requested_transitions(warehouse, contact) == [
            ("entered", "2026-06-30 09:00:00")
        ]
        assert warehouse.query("select distinct cast(as_of as varchar) from marts.contacts") == [
            ("2026-06-30 00:00:00",)
        ]
    finally:
        warehouse.close()


def demo_requested_transitions(warehouse: DuckDBWarehouse, contact: str) -> list[tuple]:
    return warehouse.query(
        "select transition, cast(transitioned_at as varchar) from marts.segment_transitions "
        f"where contact_key = '{contact}' and segment_id = 'demo_requested'"
    )


def test_a_sync_with_rejected_records_fails_and_an_unconfigured_one_is_not_materialized(
    definitions, daily
):
    """Goes on from the daily (and realtime) warehouse: the lists API rejects every member
    of a first sync; the asset fails (no retry) with the counts and sample reasons. The CRM,
    not configured, is not materialized: its step succeeds and logs the skip."""
    _, workdir = daily
    path = workdir / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path)
    try:
        for table in ("delivered", "rejections", "sync_runs"):
            warehouse.execute(
                f"delete from sync_state.{table} where destination = 'marketing_lists'"
            )
        members = warehouse.query(
            "select email from marts.export_audience_members where email_reach = 'reachable'"
        )
        emails = {email for (email,) in members}
    finally:
        warehouse.close()
    state = ApiState(reject_emails=emails)
    server = Server(state)
    assets = {a.key.to_user_string(): a for a in definitions.sync_assets}
    try:
        with (
            environment(
                AUDIENCE_DUCKDB_PATH=str(path),
                AUDIENCE_OUTPUT_DIR=str(workdir / "output"),
                AUDIENCE_LISTS_API_URL=server.url,
            ),
            dg.instance_for_test() as instance,
        ):
            result = dg.materialize(
                [assets["sync/marketing_lists"], assets["sync/crm"]],
                partition_key=PARTITION,
                instance=instance,
                raise_on_error=False,
            )
            logged = [
                record.user_message
                for record in instance.all_logs(result.run_id)
                if record.step_key == "sync__crm"
            ]
    finally:
        server.close()

    assert not result.success
    assert steps(result, "STEP_SUCCESS") == {"sync__crm"}
    assert steps(result, "STEP_UP_FOR_RETRY") == set()
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "sync__marketing_lists"
    user_failure = failure.event_specific_data.user_failure_data
    assert "marketing_lists: failed: 0 added" in user_failure.description
    metadata = user_failure.metadata
    assert metadata["status"].value == "failed"
    assert metadata["rejected"].value == len(members) and metadata["added"].value == 0
    assert set(metadata["sample rejections"].value.values()) == {"invalid address"}
    materialized = {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert not materialized
    assert any(
        "crm: skipped: not configured: set AUDIENCE_CRM_DATABASE; not materialized" in message
        for message in logged
    )
    # the asset says it was skipped (an observation), not that it was synced
    (observed,) = [
        e.event_specific_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observed.asset_key.to_user_string() == "sync/crm"
    assert observed.metadata["status"].value == "skipped"


def test_only_transient_errors_go_to_the_retry_policy(definitions):
    """A busy warehouse or a lost connection is retried; anything else fails once, its
    message the failure's description."""
    from audience.warehouse import WarehouseBusy

    assert definitions.is_transient(WarehouseBusy("/w.duckdb", 42, "dagster"))
    assert definitions.is_transient(
        RuntimeError('IO Error: Could not set lock on file "/w.duckdb": Conflicting lock')
    )
    assert definitions.is_transient(OSError("connection refused"))
    assert not definitions.is_transient(RuntimeError("Catalog Error: Table x does not exist"))
    assert not definitions.is_transient("Compilation Error in model contacts")

    def step(error: Exception):
        yield 1
        raise error

    wrapped = definitions.one_attempt_unless_transient(step)
    with pytest.raises(dg.Failure) as failed:
        list(wrapped(ValueError("as_of is in the wrong format")))
    assert failed.value.allow_retries is False
    assert failed.value.description == "ValueError: as_of is in the wrong format"
    with pytest.raises(ConnectionError):  # left to the retry policy
        list(wrapped(ConnectionError("server closed the connection unexpectedly")))


def test_the_instance_runs_one_writer_at_a_time_and_retries_from_failure(definitions, monkeypatch):
    home = project_dir() / "orchestration" / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.from_config(str(home))
    config = instance.get_concurrency_config()
    assert config.run_queue_config.max_concurrent_runs == 1
    assert config.pool_config.default_pool_limit == 1
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    # a run that failed in a step is not run again (its steps retry transient errors); a
    # run whose worker died is
    assert not instance.run_retries_retry_on_asset_or_op_failure
    # the daemon fails runs whose worker is gone and frees the pool slots they held
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
    # the schedule and the sensor run from the start
    assert definitions.daily_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert definitions.high_intent_events.default_status == dg.DefaultSensorStatus.RUNNING
    assert definitions.daily_refresh.tags["dagster/retry_strategy"] == "FROM_FAILURE"
    # a backfill of several days runs one day, one as_of, per run
    for asset in (definitions.raw_tables, definitions.dbt_models):
        assert asset.backfill_policy.max_partitions_per_run == 1


def test_run_monitoring_frees_the_warehouse_slot_of_a_terminated_or_dead_run(tmp_path):
    """The instance of `make dagster`, its daemon's sweeps called one at a time on a moved
    clock: a run that was terminated while it held the `warehouse` slot gives it back
    free_slots_after_run_end_seconds after it ended; a run whose worker died (the default
    run launcher cannot see a dead worker) is failed once it passes max_runtime_seconds,
    and its slot given back after that. Until then the next run waits."""
    import logging
    from datetime import timedelta
    from types import SimpleNamespace

    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.storage.dagster_run import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test, freeze_time
    from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration
    from dagster._daemon.monitoring.run_monitoring import check_run_timeout

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(project_dir() / "orchestration" / "dagster_home" / "dagster.yaml", home)
    instance = dg.DagsterInstance.from_config(str(home))
    storage = instance.event_log_storage
    assert storage.supports_global_concurrency_limits
    settings = instance.run_monitoring_settings
    free_after = settings["free_slots_after_run_end_seconds"]
    max_runtime = settings["max_runtime_seconds"]
    logger = logging.getLogger("run_monitoring")
    start = datetime.now(UTC)

    def sweep(at: datetime) -> None:
        """One pass of the daemon's slot sweep at a moment."""
        with freeze_time(at):
            list(execute_concurrency_slots_iteration(SimpleNamespace(instance=instance), logger))

    def started(run: dg.DagsterRun) -> dg.DagsterRun:
        event = DagsterEvent(
            event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name
        )
        instance.report_dagster_event(event, run_id=run.run_id)
        return run

    def claims(run: dg.DagsterRun, step: str) -> bool:
        return storage.claim_concurrency_slot("warehouse", run.run_id, step).is_claimed

    try:
        with freeze_time(start):
            storage.initialize_concurrency_limit_to_default("warehouse")
            assert storage.get_concurrency_info("warehouse").slot_count == 1
            terminated = create_run_for_test(
                instance, job_name="daily_refresh", status=DagsterRunStatus.STARTED
            )
            assert claims(terminated, "dbt_models")
            waiting = started(
                create_run_for_test(
                    instance, job_name="realtime_refresh", status=DagsterRunStatus.STARTED
                )
            )
            assert not claims(waiting, "raw_tables")
            # terminated: the run ends, its worker gone before it gave the slot back
            instance.report_run_canceled(terminated)
        sweep(start + timedelta(seconds=free_after / 2))
        assert not claims(waiting, "raw_tables")
        sweep(start + timedelta(seconds=free_after + 5))
        assert claims(waiting, "raw_tables")

        # the next run's worker is killed while it holds the slot: its run stays started
        dead = waiting
        after = create_run_for_test(
            instance, job_name="daily_refresh", status=DagsterRunStatus.STARTED
        )
        assert not claims(after, "raw_tables")
        sweep(start + timedelta(hours=1))
        assert not claims(after, "raw_tables")
        late = start + timedelta(seconds=max_runtime + 60)
        with freeze_time(late):
            record = instance.get_run_record_by_id(dead.run_id)
            assert record is not None and record.start_time is not None
            check_run_timeout(instance, record, logger, float(max_runtime))
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        sweep(late + timedelta(seconds=free_after + 5))
        assert claims(after, "raw_tables")
    finally:
        instance.dispose()


def test_dagster_dev_serves_the_whole_asset_graph(definitions, tmp_path):
    """What `make dagster` starts: the UI answers with every asset, dbt found off PATH."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(project_dir() / "orchestration" / "dagster_home" / "dagster.yaml", home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"}
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(
        [str(dagster), "dev", "-f", str(project_dir() / "orchestration" / "definitions.py"),
         "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    nodes: list = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not nodes:
            time.sleep(2)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=query,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=20) as response:
                    nodes = json.loads(response.read())["data"]["assetNodes"]
            except (OSError, KeyError, TypeError, ValueError):
                continue
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # its daemon and code servers can be slow to stop
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    # the graph of the definitions as `dagster dev` prepared them (it parses dbt again)
    served = load_definitions("audience_definitions_served")
    assert len(keys) == len(served.defs.resolve_asset_graph().get_all_asset_keys())
    assert {"segment/pages", "marts/segment_membership", "sync/lead_routing"} <= keys


def write_rows(path: Path, table: str, rows: list[dict[str, str]]) -> Path:
    """A landed file of a raw table in the contract's columns."""
    import csv

    columns = RAW_TABLES[table].columns
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


def tracked(event: str, number: int = 1) -> dict[str, str]:
    return {
        "id": f"s-{number}",
        "anonymous_id": "a-1",
        "event": event,
        "timestamp": "2026-06-30 08:00:00",
        "received_at": "2026-06-30 08:00:01",
        "properties": "{}",
    }


def viewed(path: str, number: int = 1) -> dict[str, str]:
    return {
        "id": f"p-{number}",
        "anonymous_id": "a-1",
        "timestamp": "2026-06-30 08:00:00",
        "received_at": "2026-06-30 08:00:01",
        "url": f"https://example.com{path}",
        "path": path,
    }


def test_the_sensor_watches_every_landed_file_and_starts_realtime_runs_for_hot_ones(
    definitions, tmp_path
):
    """Every raw table's files are watched; a file of tracks with high-intent events or of
    pages with views of high-intent pages starts the realtime job for the new event files;
    a file of another table waits for the daily run; a same-size rewrite that keeps its
    modification time is a new version, a touched file with the same bytes is not."""
    import json
    import os

    landing = tmp_path / "landing"
    landing.mkdir()
    write_rows(landing / "tracks.csv", "tracks", [tracked("Product Viewed")])
    write_rows(landing / "crm_contacts.csv", "crm_contacts", [{"contact_id": "c-1"}])
    sensor = definitions.high_intent_events

    def tick(cursor: str | None) -> dg.SensorResult:
        return sensor(dg.build_sensor_context(cursor=cursor))

    with environment(AUDIENCE_LANDING_DIR=str(landing)):
        first = tick(None)
        assert not first.run_requests
        assert set(json.loads(first.cursor)) == {"tracks.csv", "crm_contacts.csv"}
        assert not tick(first.cursor).run_requests

        # a CRM export of the day: the daily run loads it, no realtime run
        write_rows(landing / "crm_contacts_20260630.csv", "crm_contacts", [{"contact_id": "c-2"}])
        crm = tick(first.cursor)
        assert not crm.run_requests
        assert "crm_contacts_20260630.csv: loaded by the next daily run" in str(crm.skip_reason)
        assert "crm_contacts_20260630.csv" in json.loads(crm.cursor)

        # tracks rewritten in place, same size, same modification time: Product Viewed
        # becomes Demo Requested (14 characters each)
        path = landing / "tracks.csv"
        stat = path.stat()
        write_rows(path, "tracks", [tracked("Demo Requested")])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size
        hot = tick(crm.cursor)
        (request,) = hot.run_requests
        assert json.loads(request.tags[definitions.FILES_TAG]) == ["tracks.csv"]
        assert request.tags["audience/high_intent_events"] == "1"
        assert request.run_key.startswith("realtime-")

        # touched, the same bytes: not new
        os.utime(path)
        assert not tick(hot.cursor).run_requests

        # pages: a blog view is not hot, a pricing view is (the page_categories seed)
        write_rows(landing / "pages_20260630.csv", "pages", [viewed("/blog/a-post")])
        cold = tick(hot.cursor)
        assert not cold.run_requests
        assert "pages_20260630.csv: no high-intent events or page views" in str(cold.skip_reason)
        write_rows(landing / "pages_20260701.csv", "pages", [viewed("/Pricing/enterprise", 2)])
        (pricing,) = tick(cold.cursor).run_requests
        assert json.loads(pricing.tags[definitions.FILES_TAG]) == ["pages_20260701.csv"]
        assert pricing.tags["audience/high_intent_page_views"] == "1"
        assert pricing.tags["audience/high_intent_events"] == "0"


def test_a_landed_file_is_known_by_its_content(definitions, tmp_path, monkeypatch):
    """Small files by their whole content; large ones by size, modification time and their
    first and last 64 KiB."""
    import os

    small = tmp_path / "small.csv"
    small.write_bytes(b"a" * 1000)
    before = definitions.fingerprint(small)
    small.write_bytes(b"a" * 999 + b"b")
    assert definitions.fingerprint(small) != before
    small.write_bytes(b"a" * 1000)
    os.utime(small, ns=(1, 1))
    assert definitions.fingerprint(small) == before

    monkeypatch.setattr(definitions, "FULL_HASH_BYTES", 100_000)
    large = tmp_path / "large.parquet"
    large.write_bytes(b"x" * 300_000)
    stat = large.stat()
    first = definitions.fingerprint(large)
    large.write_bytes(b"x" * 299_999 + b"y")  # the last bytes changed
    os.utime(large, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert definitions.fingerprint(large) != first
    os.utime(large, ns=(1, 1))  # another modification time: a new version of a large file
    assert definitions.fingerprint(large) != first
