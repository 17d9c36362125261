"""The Dagster code location: the daily refresh, the quality gates and the syncs as assets.

    dagster dev -f orchestration/definitions.py

Asset graph, for one daily partition (the day before `as_of`, which is the partition's end):

    raw tables (one load) -> every dbt seed, model and snapshot (dbt tests as asset checks)
    -> Great Expectations suites (blocking asset checks on raw tables and public marts)
    -> one sync asset per destination of syncs.yml, downstream of the export it sends

A failed critical GX check blocks the syncs in the same run, and each sync asks the
warehouse for the verdict again before it sends anything (audience.checks). A sync that is
refused, fails or has records rejected fails its step (retried only when delivery failed);
an unconfigured destination is not materialized (the step logs why). Deterministic failures
(a failed gate, a dbt error, a bad file) fail their step once, with the reason as its
description; only transient ones (a busy warehouse, a lost connection) are retried. The
warehouse takes one writer: every step that writes it shares the `warehouse` pool (one at a
time; see orchestration/dagster_home/dagster.yaml), and runs are queued one at a time.

The realtime path: the sensor `high_intent_events` watches every raw table's files in the
landing folder (by a content fingerprint) and starts `realtime_refresh` as of that moment for
new files of tracked events with high-intent events or of page views of high-intent pages;
the run loads only the new event files and rebuilds what the realtime segments and their
syncs need. Files of the other tables wait for the daily run.

A run's steps share one process (in_process_executor), and dbt runs through `audience-dbt`,
which parses the project once per code version rather than once per as_of
(audience.dbt_cached).

Settings: AUDIENCE_TARGET (duckdb | postgres), AUDIENCE_LANDING_DIR (the folder of raw files
to load, default <output>/demo-data), plus the warehouse and destination variables of the
README.
"""

import csv
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)

from audience.cadence import build_vars, weekly_schedule
from audience.checks import CheckResult, load_suites, run_checks
from audience.contract import RAW_TABLES
from audience.dbt import AS_OF_FORMAT, BUILD
from audience.loader import BadFile, LoadReport, discover, load_dir, plan_file
from audience.project import duckdb_path, output_dir, project_dir, target_dir
from audience.sources import CONTRACT
from audience.syncs import load_config, run_syncs
from audience.train_job import training_job
from audience.warehouse import WarehouseBusy, connected, duckdb_lock_conflict

ROOT = project_dir()
TARGET = os.environ.get("AUDIENCE_TARGET", "duckdb")
POOL = "warehouse"
# dbt runs in a subprocess: the dbt of this environment, whatever PATH says (dagster dev's
# project preparation looks it up on PATH), with the same absolute warehouse path
BIN = Path(sys.executable).parent
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("AUDIENCE_DUCKDB_PATH", str(duckdb_path()))
# the parsed project, one per code version, where every run finds it (audience.dbt_cached)
os.environ.setdefault("AUDIENCE_DBT_MANIFEST_CACHE", str(target_dir() / "parsed"))

daily = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")
# a backfill of a range of days runs one day (one as_of) per run, oldest first
ONE_DAY_PER_RUN = dg.BackfillPolicy.multi_run(1)
# Only transient errors reach the retry policy: every step turns a deterministic failure
# (a refused build, a dbt error, a failed gate, a bad file) into a dg.Failure that is not
# retried (see `one_attempt_unless_transient`); retrying those only delays the headline.
retry = dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL)

#: what a transient error says: the single DuckDB writer is taken, or the server is away
TRANSIENT = re.compile(
    r"could not set lock on file|conflicting lock|could not connect|connection refused"
    r"|connection reset|server closed the connection|connection timed out|timeout expired"
    r"|too many connections|the database system is (starting up|shutting down)"
    r"|deadlock detected|could not serialize access",
    re.IGNORECASE,
)


def is_transient(error: BaseException | str) -> bool:
    """True for errors a later attempt may not meet (a busy warehouse, a lost connection);
    False for the ones it would meet again (bad SQL, a refused build, failed tests)."""
    if isinstance(error, WarehouseBusy | ConnectionError | TimeoutError):
        return True
    text = str(error)
    return duckdb_lock_conflict(text) is not None or TRANSIENT.search(text) is not None


def deterministic(description: str, **metadata: Any) -> dg.Failure:
    """A failure a retry would meet again: fail once, with the reason as the headline."""
    return dg.Failure(description=description, metadata=metadata, allow_retries=False)


def one_attempt_unless_transient(
    body: Callable[..., Iterator[Any]],
) -> Callable[..., Iterator[Any]]:
    """Wrap a step's body: transient errors go on to the retry policy as they are; any other
    error becomes a Failure that is not retried, whose description is the error's message
    (not \"Exceeded max_retries\" and a stack trace ten minutes later)."""

    @functools.wraps(body)
    def wrapped(*args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from body(*args, **kwargs)
        except (dg.Failure, dg.RetryRequested, dg.DagsterExecutionInterruptedError):
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise deterministic(f"{type(exc).__name__}: {exc}") from exc

    return wrapped


# dbt's artifacts where dbt writes them (DBT_TARGET_PATH when set: parallel test workers,
# and the `dagster dev` they start, each keep their own)
dbt_project = DbtProject(
    project_dir=ROOT, profiles_dir=ROOT, target=TARGET, target_path=target_dir()
)
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


#: run tag: the landing files (their paths in the folder) a realtime run was started for
FILES_TAG = "audience/files"


def landing_dir() -> Path:
    """The folder of raw files to load (AUDIENCE_LANDING_DIR, default <output>/demo-data)."""
    return Path(os.environ.get("AUDIENCE_LANDING_DIR") or output_dir() / "demo-data")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(raw_key(t), description=RAW_TABLES[t].description, group_name="raw")
        for t in RAW_TABLES
    ],
    partitions_def=daily,
    backfill_policy=ONE_DAY_PER_RUN,
    retry_policy=retry,
    pool=POOL,
    can_subset=True,
)
@one_attempt_unless_transient
def raw_tables(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    """Load the landing folder (the files of each raw table) into schema raw; re-loading a
    file replaces its rows, so a retry or a re-run never doubles the data, and a file whose
    bytes were loaded already is left as it is (no new load time: nothing downstream sees
    it as new). A subset (the realtime job: the event tables) loads only the files of its
    tables, and a run started for landed files (tag audience/files) only those files. Bad
    files fail the step, after the good ones are loaded and materialized."""
    landing = landing_dir()
    if not landing.is_dir():
        raise deterministic(f"no landing folder at {landing}; set AUDIENCE_LANDING_DIR")
    selected = [t for t in RAW_TABLES if raw_key(t) in context.selected_asset_keys]
    only: list[str] | None = None
    if len(selected) < len(RAW_TABLES) or context.run.tags.get(FILES_TAG):
        found, _ = discover(landing)
        only = [f.name for t in selected for f in found.get(t, [])]
        tagged = context.run.tags.get(FILES_TAG)
        if tagged:
            only = [name for name in only if name in set(json.loads(tagged))]
    if only == []:
        context.log.info(f"no file of {', '.join(selected)} in {landing}: nothing to load")
        report = LoadReport(target=TARGET)
    else:
        with connected(TARGET) as warehouse:
            report = load_dir(landing, warehouse, only=only)
    for table in selected:
        loads = [load for load in report.loads if load.table == table and load.source_file]
        files = [load.file_name or load.source_file for load in loads if load.source_file]
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "rows": sum(load.rows for load in loads if load.status == "loaded"),
                "file": ", ".join(f for f in files if f) if files else "not provided",
                "unchanged files": sum(load.status == "unchanged" for load in loads),
            },
        )
    if report.errors:
        # what loaded is materialized above; the bad files fail the step (a retry would read
        # the same files again)
        for error in report.errors:
            context.log.error(error)
        raise deterministic(
            f"{len(report.errors)} bad file(s) in {landing} were not loaded: "
            + "; ".join(report.errors)
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
@one_attempt_unless_transient
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """dbt build as of the partition's end (or the realtime run's instant): seeds, models,
    snapshots and their data tests (unit tests run with the code's tests, not here). A
    failed build fails once with dbt's errors as the headline; only a busy warehouse or a
    lost connection is tried again."""
    as_of = run_as_of(context).strftime(AS_OF_FORMAT)
    invocation = dbt.cli(
        [*BUILD, "--vars", json.dumps(build_vars(as_of, context.run.tags))],
        context=context,
        raise_on_error=False,
    )
    yield from invocation.stream()
    if invocation.is_successful():
        return
    errors = dbt_errors(invocation)
    said = "\n".join(errors) or f"dbt build exited with code {invocation.process.returncode}"
    headline = f"dbt build as of {as_of} failed:\n{said}"
    if is_transient(said):
        raise RuntimeError(headline)  # the retry policy tries again
    raise deterministic(headline)


def dbt_errors(invocation: Any) -> list[str]:
    """The failing nodes of a dbt invocation (run_results.json), else dbt's error lines."""
    lines: list[str] = []
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # no run_results.json: dbt stopped before running a node
        results = []
    for result in results:
        if result.get("status") in {"error", "fail", "runtime error"}:
            message = (result.get("message") or "").strip()[:500]
            lines.append(f"{result['status']}: {result.get('unique_id')}: {message}")
    return lines or [str(m).strip()[:1000] for m in getattr(invocation, "_error_messages", [])]


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


#: the column of each suite's failing rows that names the relation a row is about, and the
#: asset each value names: a failed row is reported on the asset it concerns
ROW_NAMES: dict[str, tuple[str, dict[str, dg.AssetKey]]] = {
    "raw_freshness": ("source_table", {".".join(raw_key(t).path): raw_key(t) for t in RAW_TABLES}),
    "raw_volume": ("source_table", {".".join(raw_key(t).path): raw_key(t) for t in RAW_TABLES}),
    "staging_volume": (
        "source_table",
        {key.path[-1].removeprefix("base_").replace("__", ".", 1): key for key in STAGING_BASES},
    ),
    "mart_freshness": ("relation", {"contacts": CONTACTS, "segment_membership": MEMBERSHIP}),
    "mart_volume": ("relation", {"contacts": CONTACTS, "segment_membership": MEMBERSHIP}),
}


def concerned_assets(suite: str, result: CheckResult) -> set[dg.AssetKey]:
    """The assets a failed (or warned) result is about: the relations its failing rows name,
    or every asset the suite guards when the rows name none of them (a suite about one
    asset, an expectation that could not be evaluated, a row about an export)."""
    guarded = set(SUITE_ASSETS[suite])
    column, keys = ROW_NAMES.get(suite, ("", {}))
    if column:
        named = {
            keys[value.strip()]
            for value in re.findall(rf"\b{column}=([^,;]+)", result.details)
            if value.strip() in keys
        }
        if named:
            return named & guarded
    return guarded


def _gate(name: str, suites: list[str], description: str) -> dg.AssetChecksDefinition:
    """One asset check per suite and guarded asset, from one `audience check` of the suites;
    each failure is reported on the asset it concerns."""

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
    @one_attempt_unless_transient
    def gate(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        run = run_checks(TARGET, run_as_of(context), suites=[SUITES[s] for s in suites])
        selected = context.selected_asset_check_keys
        blocked: list[str] = []
        for suite in suites:
            results = [r for r in run.results if r.suite == suite]
            for key in SUITE_ASSETS[suite]:
                if dg.AssetCheckKey(key, suite) not in selected:
                    continue
                failed = [
                    r for r in results if r.status == "fail" and key in concerned_assets(suite, r)
                ]
                warned = [
                    r for r in results if r.status == "warn" and key in concerned_assets(suite, r)
                ]
                if failed:
                    blocked.extend(f"{key.to_user_string()}: {r.message}" for r in failed)
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
        if blocked:
            # the data is what it is: a retry would fail the same way. What is downstream
            # of the step is not run.
            raise deterministic(
                f"{len(blocked)} critical quality check(s) failed as of "
                f"{run_as_of(context):{AS_OF_FORMAT}}:\n" + "\n".join(blocked)
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
    @one_attempt_unless_transient
    def sync_asset(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.MaterializeResult | dg.AssetObservation]:
        with connected(TARGET) as warehouse:
            (run,) = run_syncs(warehouse, [name], as_of=run_as_of(context), skip_unconfigured=True)
        line = run.format_line()
        if run.unconfigured:
            # not materialized (nothing was sent: the asset must not look synced); the
            # observation says so on the asset's page
            context.log.warning(f"{line}; not materialized")
            yield dg.AssetObservation(
                asset_key=context.asset_key,
                metadata={"status": "skipped", "message": run.message or line},
            )
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
    # a run that died (its worker killed, the machine restarted) is run again from where it
    # stopped; a run whose step failed is not (dagster.yaml: retry_on_asset_or_op_failure)
    tags={"dagster/max_retries": 2, "dagster/retry_strategy": "FROM_FAILURE"},
    description="Load, build (with snapshots and dbt tests), check, sync: one as_of per day.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_refresh,
    hour_of_day=0,
    minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.RUNNING,
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


EVENT_TABLES = ("tracks", "pages")
EVENT_SOURCES = dg.AssetSelection.assets(*(raw_key(t) for t in EVENT_TABLES))
REALTIME_SEGMENTS = dg.AssetSelection.assets(*(model_key(n) for n in realtime_segments()))


def with_test_partners(selection: dg.AssetSelection) -> dg.AssetSelection:
    """The selection, plus every model a dbt test ties to a selected one (a relationships
    test of contact_score_signals to contacts), plus what lies between them: dbt runs every
    test that reads a rebuilt model, and a partner left at the previous build fails it (a
    contact merged away as of now, still scored as of midnight)."""
    assets = [raw_tables, dbt_models, *sync_assets]
    by_id = MANIFEST["nodes"]
    tied = [
        [
            model_key(by_id[n]["name"])
            for n in node["depends_on"]["nodes"]
            if n in by_id and by_id[n]["resource_type"] in {"model", "snapshot"}
        ]
        for node in by_id.values()
        if node["resource_type"] == "test"
    ]
    while True:
        chosen = selection.resolve(assets)
        missing = {key for keys in tied if set(keys) & chosen for key in keys} - chosen
        if not missing:
            return selection
        between = dg.AssetSelection.assets(*missing).upstream() & (
            dg.AssetSelection.assets(*(chosen - {raw_key(t) for t in RAW_TABLES})).downstream()
        )
        selection = selection | dg.AssetSelection.assets(*missing) | between


realtime_selection = with_test_partners(
    # the new event files' load, the path from the event tables to the realtime segments,
    # the segments, and everything that reads their membership: history, transitions,
    # exports, syncs; and the raw tables' quality gates, which the syncs require for the new
    # as_of
    EVENT_SOURCES
    | (EVENT_SOURCES.downstream() & REALTIME_SEGMENTS.upstream())
    | REALTIME_SEGMENTS
    | dg.AssetSelection.assets(MEMBERSHIP).downstream()
) | dg.AssetSelection.checks_for_assets(*(raw_key(t) for t in RAW_TABLES))

realtime_refresh = dg.define_asset_job(
    "realtime_refresh",
    selection=realtime_selection,
    description="Load newly landed event files, rebuild the realtime segments and sync them.",
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _canonical_event_names() -> dict[str, str]:
    """Raw tracked-event names (lower-cased) -> canonical names, from the event_name_map seed
    file (read from the project, not the warehouse: the sensor never waits for the writer)."""
    with (ROOT / "seeds" / "event_name_map.csv").open(newline="") as handle:
        return {
            row["raw_name"].strip().lower(): row["canonical_event"]
            for row in csv.DictReader(handle)
            if row["event_source"] == "tracks"
        }


def _counted(reader: duckdb.DuckDBPyConnection, file: Any, condition: str) -> int:
    """How many rows of a landed file meet a condition (a file that cannot be read counts
    none: the load reports it)."""
    try:
        plan = plan_file(reader, CONTRACT, file)
    except BadFile:
        return 0
    query = f"select count(*) from ({plan.query}) as landed where {condition}"
    return int(reader.execute(query, [str(file.path), now()]).fetchone()[0])


def _listed(values: Any) -> str:
    return ", ".join("'" + str(value).replace("'", "''") + "'" for value in sorted(values))


def high_intent_events_in(files: list[Path | Any]) -> int:
    """How many high-intent tracked events the landed files of table tracks hold."""
    names = _canonical_event_names()
    wanted = {e.lower() for e in HIGH_INTENT_EVENTS}
    wanted |= {raw for raw, canonical in names.items() if canonical.lower() in wanted}
    condition = f"lower(trim(event)) in ({_listed(wanted)})"
    reader = duckdb.connect()
    try:
        return sum(_counted(reader, file, condition) for file in files)
    finally:
        reader.close()


#: page categories (the page_categories seed) whose views make a contact hot now: the
#: pricing_repeat_viewer and demo_page_bouncer triggers
HIGH_INTENT_PAGES = ("pricing", "demo_request")


def high_intent_page_views_in(files: list[Path | Any]) -> int:
    """How many views of high-intent pages (HIGH_INTENT_PAGES, by the path patterns of the
    page_categories seed, first match by priority as staging matches them) the landed files
    of table pages hold."""
    with (ROOT / "seeds" / "page_categories.csv").open(newline="") as handle:
        patterns = [
            (row["path_pattern"], row["page_category"], int(row["priority"]))
            for row in csv.DictReader(handle)
        ]
    values = ", ".join(
        f"('{pattern.replace(chr(39), chr(39) * 2)}', '{category}', {priority})"
        for pattern, category, priority in patterns
    )
    condition = (
        "(select c.page_category from (values "
        + values
        + ") as c(path_pattern, page_category, priority) "
        "where lower(coalesce(nullif(trim(landed.path), ''), '/')) like c.path_pattern "
        f"order by c.priority limit 1) in ({_listed(HIGH_INTENT_PAGES)})"
    )
    reader = duckdb.connect()
    try:
        return sum(_counted(reader, file, condition) for file in files)
    finally:
        reader.close()


def landed_files() -> dict[str, Any]:
    """Every landed file of every raw table, by its name in the landing folder."""
    landing = landing_dir()
    if not landing.is_dir():
        return {}
    found, _ = discover(landing)
    return {f.name: f for files in found.values() for f in files}


#: files up to this size are hashed whole; larger ones by their first and last EDGE bytes
FULL_HASH_BYTES = 16 * 1024 * 1024
EDGE = 64 * 1024


def fingerprint(path: Path) -> str:
    """What identifies one version of a landed file: its size and a hash of its content (the
    whole file up to FULL_HASH_BYTES, else its first and last 64 KiB with its modification
    time). A rewrite of the same size that keeps the modification time is a new version; a
    file touched with the same bytes is not (up to FULL_HASH_BYTES)."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if stat.st_size <= FULL_HASH_BYTES:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
            return f"{stat.st_size}:{digest.hexdigest()}"
        digest.update(handle.read(EDGE))
        handle.seek(-EDGE, os.SEEK_END)
        digest.update(handle.read(EDGE))
    return f"{stat.st_size}:{stat.st_mtime_ns}:{digest.hexdigest()}"


@dg.sensor(
    job=realtime_refresh,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def high_intent_events(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Watch every raw table's files in the landing folder (new, or changed since the sensor
    last saw them: a content fingerprint) and start the realtime refresh for the ones that
    can change a realtime segment now: files of the event tables the realtime job loads
    (EVENT_TABLES) that hold high-intent tracked events or views of high-intent pages. The
    run loads the new event files (all of them, the others too) and rebuilds the realtime
    path. A new file of any other table (CRM exports, email events, product usage,
    subscriptions, intent) changes only daily segments and scores: the daily job loads it;
    the tick says so. It watches files, not the warehouse: a re-load of data already there
    is not new, and a tick never waits for the single writer. Its first tick only notes the
    files already there (history is the daily job's)."""
    files = landed_files()
    seen = {name: fingerprint(file.path) for name, file in files.items()}
    cursor = json.dumps(seen, sort_keys=True)
    if context.cursor is None:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(
                f"watching {landing_dir()}: {len(seen)} landed file(s) already there"
            ),
            cursor=cursor,
        )
    known = json.loads(context.cursor)
    landed = sorted(name for name, version in seen.items() if known.get(name) != version)
    if not landed:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new landed files"), cursor=cursor)
    events = [name for name in landed if files[name].table in EVENT_TABLES]
    daily_only = [name for name in landed if name not in events]
    later = f"{', '.join(daily_only)}: loaded by the next daily run" if daily_only else ""
    tracked = high_intent_events_in([files[n] for n in events if files[n].table == "tracks"])
    viewed = high_intent_page_views_in([files[n] for n in events if files[n].table == "pages"])
    if not tracked and not viewed:
        said = [f"{', '.join(events)}: no high-intent events or page views"] if events else []
        return dg.SensorResult(
            skip_reason=dg.SkipReason("; ".join([*said, *([later] if later else [])])),
            cursor=cursor,
        )
    if later:
        context.log.info(later)
    as_of = now()
    partitions = daily.get_partition_keys(current_time=as_of)
    versions = hashlib.sha256(json.dumps({n: seen[n] for n in events}).encode()).hexdigest()
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"realtime-{versions[:16]}",
                partition_key=partitions[-1],
                tags={
                    AS_OF_TAG: as_of.strftime(AS_OF_FORMAT),
                    FILES_TAG: json.dumps(events),
                    "audience/high_intent_events": str(tracked),
                    "audience/high_intent_page_views": str(viewed),
                },
            )
        ],
        cursor=cursor,
    )


# --- the weekly training ------------------------------------------------------------------------

weekly_training, weekly_training_schedule = training_job(lambda: connected(TARGET), POOL)


defs = dg.Definitions(
    assets=[raw_tables, dbt_models, *sync_assets],
    asset_checks=[raw_gates, mart_gates],
    jobs=[daily_refresh, realtime_refresh, weekly_training],
    schedules=[daily_schedule, weekly_schedule(daily_refresh), weekly_training_schedule],
    sensors=[high_intent_events],
    # dbt through audience-dbt: the project is parsed once per code version, not once per
    # as_of (audience.dbt_cached)
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(BIN / "audience-dbt"))
    },
    # the steps of a run share its process: no process start, no import of these definitions
    # and of dbt per step (the `warehouse` pool runs them one at a time anyway)
    executor=dg.in_process_executor,
)
