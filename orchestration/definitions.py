"""The Dagster code location: the daily refresh, the quality gates and the syncs as assets.

    dagster dev -f orchestration/definitions.py

Asset graph, for one daily partition (the day before `as_of`, which is the partition's end):

    raw tables (one load) -> every dbt seed, model and snapshot (dbt tests as asset checks)
    -> Great Expectations suites (blocking asset checks on raw tables and public marts)
    -> one sync asset per destination of syncs.yml, downstream of the export it sends

A failed critical GX check blocks the syncs in the same run, and each sync asks the
warehouse for the verdict again before it sends anything (audience.checks). A sync that is
refused, fails or has records rejected fails its step (retried only when delivery failed);
an unconfigured destination is not materialized (the step logs why). The warehouse
takes one writer: every step that writes it shares the `warehouse` pool (one at a time; see
orchestration/dagster.yaml), and runs are queued one at a time.

Settings: AUDIENCE_TARGET (duckdb | postgres), AUDIENCE_LANDING_DIR (the folder of raw files
to load, default <output>/demo-data), plus the warehouse and destination variables of the
README.
"""

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)

from audience.checks import load_suites, run_checks
from audience.contract import RAW_TABLES
from audience.dbt import AS_OF_FORMAT
from audience.loader import load_dir
from audience.project import duckdb_path, output_dir, project_dir
from audience.syncs import load_config, run_syncs
from audience.warehouse import connected

ROOT = project_dir()
TARGET = os.environ.get("AUDIENCE_TARGET", "duckdb")
POOL = "warehouse"
# dbt runs in a subprocess: the dbt of this environment, whatever PATH says (dagster dev's
# project preparation looks it up on PATH), with the same absolute warehouse path
BIN = Path(sys.executable).parent
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("AUDIENCE_DUCKDB_PATH", str(duckdb_path()))

daily = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
# a backfill of a range of days runs one day (one as_of) per run, oldest first
ONE_DAY_PER_RUN = dg.BackfillPolicy.multi_run(1)
retry = dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL)

dbt_project = DbtProject(project_dir=ROOT, profiles_dir=ROOT, target=TARGET)
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():  # a fresh clone: parse once to get the manifest
    from audience.dbt import run_dbt

    run_dbt(["parse"], target=TARGET, as_of=datetime(2026, 1, 1))


def as_of_for(partition_key: str) -> datetime:
    """A daily partition is built as of its end: partition 2026-06-29 -> 2026-06-30 00:00."""
    return datetime.strptime(partition_key, "%Y-%m-%d") + timedelta(days=1)


AS_OF_TAG = "audience/as_of"


def run_as_of(
    context: dg.OpExecutionContext | dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> datetime:
    """The run's as_of: the end of its partition, or the instant a realtime run was asked
    for (tag audience/as_of), which lies within the partition after it."""
    tagged = context.run.tags.get(AS_OF_TAG)
    if tagged:
        return datetime.strptime(tagged, AS_OF_FORMAT)
    key = context.run.tags.get("dagster/partition")
    if not key:
        raise dg.Failure("this step needs a daily partition (the day whose end is as_of)")
    return as_of_for(key)


# --- raw tables --------------------------------------------------------------------------------

MANIFEST = json.loads(dbt_project.manifest_path.read_text())
#: each raw table under the asset key dbt gives its source: [source name, table]
RAW_SOURCES = {node["name"]: node["source_name"] for node in MANIFEST["sources"].values()}


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SOURCES[table], table])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(raw_key(t), description=RAW_TABLES[t].description, group_name="raw")
        for t in RAW_TABLES
    ],
    partitions_def=daily,
    backfill_policy=ONE_DAY_PER_RUN,
    retry_policy=retry,
    pool=POOL,
)
def raw_tables(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    """Load the landing folder (the files of each raw table) into schema raw; re-loading a
    file replaces its rows, so a retry or a re-run never doubles the data. Bad files fail the
    step, after the good ones are loaded and materialized."""
    landing = Path(os.environ.get("AUDIENCE_LANDING_DIR") or output_dir() / "demo-data")
    if not landing.is_dir():
        raise dg.Failure(f"no landing folder at {landing}; set AUDIENCE_LANDING_DIR")
    with connected(TARGET) as warehouse:
        report = load_dir(landing, warehouse)
    for table in RAW_TABLES:
        loads = [load for load in report.loads if load.table == table and load.source_file]
        files = [load.source_file for load in loads if load.source_file]
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "rows": sum(load.rows for load in loads),
                "file": ", ".join(files) if files else "not provided",
            },
        )
    if report.errors:
        # what loaded is materialized above; the bad files fail the step (a retry would read
        # the same files again)
        for error in report.errors:
            context.log.error(error)
        raise dg.Failure(
            f"{len(report.errors)} bad file(s) in {landing} were not loaded: "
            + "; ".join(report.errors),
            allow_retries=False,
        )


# --- dbt ---------------------------------------------------------------------------------------


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Any) -> str | None:
        path = dbt_resource_props.get("original_file_path", "")
        for part in ("staging", "intermediate", "segments", "marts", "exports", "snapshots"):
            if f"{part}/" in path:
                return part
        return "seeds" if dbt_resource_props.get("resource_type") == "seed" else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=Translator(),
    partitions_def=daily,
    backfill_policy=ONE_DAY_PER_RUN,
    retry_policy=retry,
    pool=POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """dbt build as of the partition's end: seeds, models, snapshots and their tests."""
    as_of = run_as_of(context).strftime(AS_OF_FORMAT)
    yield from dbt.cli(["build", "--vars", json.dumps({"as_of": as_of})], context=context).stream()


# --- the quality gates ------------------------------------------------------------------------


def model_key(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([dbt_models], name)


#: the assets each suite guards
CONTACTS, MEMBERSHIP = model_key("contacts"), model_key("segment_membership")
#: the staging base models (every raw row, good or quarantined) the staging suite counts
STAGING_BASES = [
    model_key(name)
    for name in sorted(
        node["name"]
        for node in MANIFEST["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith("base_")
    )
]
SUITE_ASSETS: dict[str, list[dg.AssetKey]] = {
    "raw_freshness": [raw_key(t) for t in RAW_TABLES],
    "raw_volume": [raw_key(t) for t in RAW_TABLES],
    "staging_volume": STAGING_BASES,
    "mart_freshness": [CONTACTS, MEMBERSHIP],
    "mart_volume": [CONTACTS, MEMBERSHIP],
    "contact_validity": [CONTACTS],
    "membership_validity": [MEMBERSHIP],
}
SUITES = {suite.name: suite for suite in load_suites()}


def _gate(name: str, suites: list[str], description: str) -> dg.AssetChecksDefinition:
    """One asset check per suite and guarded asset, from one `audience check` of the suites."""

    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec(
                name=suite, asset=key, blocking=True, description=SUITES[suite].description
            )
            for suite in suites
            for key in SUITE_ASSETS[suite]
        ],
        can_subset=True,
        description=description,
        pool=POOL,
        retry_policy=retry,
    )
    def gate(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        run = run_checks(TARGET, run_as_of(context), suites=[SUITES[s] for s in suites])
        selected = context.selected_asset_check_keys
        for suite in suites:
            results = [r for r in run.results if r.suite == suite]
            failed = [r for r in results if r.status == "fail"]
            warned = [r for r in results if r.status == "warn"]
            for key in SUITE_ASSETS[suite]:
                if dg.AssetCheckKey(key, suite) not in selected:
                    continue
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=suite,
                    passed=not failed,
                    severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "failures": "\n".join(r.message for r in failed) or "none",
                        "warnings": "\n".join(r.message for r in warned) or "none",
                        "data_docs": run.data_docs or "",
                        "check_run": run.run_id,
                        "build_id": run.build_id or "none (no marts yet, or a mix of builds)",
                    },
                )

    return gate


raw_gates = _gate(
    "raw_quality_gates",
    ["raw_freshness", "raw_volume"],
    "Freshness and volume of the raw tables, after the load: stale or missing data stops the "
    "build and the syncs.",
)
mart_gates = _gate(
    "mart_quality_gates",
    ["staging_volume", "mart_freshness", "mart_volume", "contact_validity", "membership_validity"],
    "Staging volume and the freshness, volume and validity of the public marts, after the "
    "build (recorded for that build): a failure, or a build never checked, stops the syncs.",
)


# --- syncs -------------------------------------------------------------------------------------


def _sync_asset(name: str, model: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["sync", name]),
        deps=[model_key(model)],
        partitions_def=daily,
        backfill_policy=ONE_DAY_PER_RUN,
        retry_policy=retry,
        pool=POOL,
        group_name="syncs",
        description=(
            f"The {name} sync of syncs.yml: sends what changed in {model}. Fails when the sync "
            "is refused (quality gates, circuit breaker), when delivery fails (retried) or when "
            "the destination rejects records (with the counts and sample reasons). Not "
            "materialized when the destination is not configured (the step logs the skip)."
        ),
        kinds={"python"},
        output_required=False,
    )
    def sync_asset(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        with connected(TARGET) as warehouse:
            (run,) = run_syncs(warehouse, [name], as_of=run_as_of(context), skip_unconfigured=True)
        line = run.format_line()
        if run.unconfigured:
            context.log.warning(f"{line}; not materialized")
            return
        metadata: dict[str, Any] = {
            "status": run.status,
            "added": run.added,
            "changed": run.changed,
            "removed": run.removed,
            "rejected": run.failed,
            "seconds": round(run.seconds, 2),
        }
        if run.message:
            metadata["message"] = run.message
        if run.rejections:
            metadata["sample rejections"] = dg.MetadataValue.json(run.rejections)
        if not run.ok:
            context.log.error(line)
            # refusals and rejections do not pass on a retry; a delivery failure may
            raise dg.Failure(description=line, metadata=metadata, allow_retries=run.retryable)
        context.log.info(line)
        yield dg.MaterializeResult(metadata=metadata)

    return sync_asset


sync_assets = [_sync_asset(name, config.model) for name, config in load_config().items()]


# --- jobs, schedule ----------------------------------------------------------------------------

daily_refresh = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all(),
    tags={"dagster/max_retries": 2, "dagster/retry_strategy": "FROM_FAILURE"},
    description="Load, build (with snapshots and dbt tests), check, sync: one as_of per day.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_refresh, hour_of_day=0, minute_of_hour=30
)

# --- the near-real-time path ----------------------------------------------------------------

#: canonical tracked events that make a contact hot now (raw names map through the
#: event_name_map seed; Segment spec names map to themselves)
HIGH_INTENT_EVENTS = ("Demo Requested", "Form Submitted", "Trial Started", "Checkout Started")


def realtime_segments() -> list[str]:
    """The segment models whose YAML says cadence: realtime."""
    names = []
    for node in MANIFEST["nodes"].values():
        meta = (node.get("config") or {}).get("meta") or {}
        if (
            node["resource_type"] == "model"
            and meta.get("segment", {}).get("cadence") == "realtime"
        ):
            names.append(node["name"])
    return sorted(names)


EVENT_SOURCES = dg.AssetSelection.assets(raw_key("tracks"), raw_key("pages"))
REALTIME_SEGMENTS = dg.AssetSelection.assets(*(model_key(n) for n in realtime_segments()))
realtime_selection = (
    # the path from the event tables to the realtime segments, the segments, and everything
    # that reads their membership: history, transitions, exports, syncs; and the raw
    # tables' quality gates, which the syncs require for the new as_of
    ((EVENT_SOURCES.downstream() & REALTIME_SEGMENTS.upstream()) - EVENT_SOURCES)
    | REALTIME_SEGMENTS
    | dg.AssetSelection.assets(MEMBERSHIP).downstream()
    | dg.AssetSelection.checks_for_assets(*(raw_key(t) for t in RAW_TABLES))
)

realtime_refresh = dg.define_asset_job(
    "realtime_refresh",
    selection=realtime_selection,
    description="Rebuild the realtime segments from new high-intent events and sync them.",
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def high_intent_arrivals(since: str | None) -> tuple[int, str | None]:
    """How many high-intent tracked events landed in raw after `since` (their load time)."""
    listed = ", ".join(f"'{e.lower()}'" for e in HIGH_INTENT_EVENTS)
    sql = (
        "select count(*), cast(max(t._loaded_at) as varchar) from raw.tracks as t "
        "left join seeds.event_name_map as m on m.event_source = 'tracks' "
        "and lower(trim(t.event)) = lower(m.raw_name) "
        f"where lower(coalesce(m.canonical_event, t.event)) in ({listed})"
    )
    params: tuple[Any, ...] = ()
    if since:
        sql += " and t._loaded_at > cast(? as timestamp)"
        params = (since,)
    with connected(TARGET) as warehouse:
        count, latest = warehouse.query(sql, params)[0]
    return int(count), latest


@dg.sensor(job=realtime_refresh, minimum_interval_seconds=30)
def high_intent_events(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Start the realtime refresh when high-intent events land in raw."""
    try:
        count, latest = high_intent_arrivals(context.cursor)
    except Exception as exc:  # the single writer is busy (a run holds the DuckDB file)
        return dg.SkipReason(f"warehouse not readable now: {exc}")
    if not count:
        return dg.SkipReason("no new high-intent events")
    as_of = now()
    partitions = daily.get_partition_keys(current_time=as_of)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"realtime-{latest}",
                partition_key=partitions[-1],
                tags={AS_OF_TAG: as_of.strftime(AS_OF_FORMAT)},
            )
        ],
        cursor=latest,
    )


defs = dg.Definitions(
    assets=[raw_tables, dbt_models, *sync_assets],
    asset_checks=[raw_gates, mart_gates],
    jobs=[daily_refresh, realtime_refresh],
    schedules=[daily_schedule],
    sensors=[high_intent_events],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(BIN / "dbt"))},
)
