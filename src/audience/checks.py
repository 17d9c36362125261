"""`audience check`: the quality gates. Great Expectations suites over the warehouse's own data.

Each suite (expectations/*.yml) validates one batch: a query under expectations/batches/,
compiled by dbt for the target and `as_of` (so it uses the project's sources, refs and
cross-database macros) and run once in the warehouse into a table of schema `quality`. The
heavy part (scanning the raw events, joining the marts) stays in the warehouse; the batch
tables are small or one row per contact.

Great Expectations then validates those tables: on PostgreSQL through its SQL backend (the
expectations run as SQL in the warehouse), on DuckDB from the table read into pandas, because
GX's SQLAlchemy path fails on duckdb-engine. Results go to GX's stores and Data Docs (HTML)
under the output folder, and to `quality.check_runs` / `quality.check_results` in the
warehouse, where the syncs and the orchestration read the verdict (`require_passing_checks`).

A verdict belongs to one build: each run records the dbt build (invocation id) it found in
the marts' `build_id` column, and the gate accepts only the build the marts hold now, checked
after it was built.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from audience.dbt import AS_OF_FORMAT, run_dbt
from audience.project import output_dir, project_dir, target_dir
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, connected

log = logging.getLogger(__name__)

QUALITY_SCHEMA = "quality"
SEVERITIES = ("critical", "warning", "info")
#: what a suite's verdict belongs to: one build of the marts (the default), or the as_of of
#: the raw data (raw tables are checked before the build that reads them)
SCOPES = ("build", "as_of")
#: how many failing rows a result message names
SHOWN_ROWS = 10
#: catalog audiences whose segments must hold no customer
PROSPECT_AUDIENCES = ("prospects", "non_customers")


class CheckError(RuntimeError):
    """The checks could not run (a suite file is wrong, a batch query failed)."""


class QualityGateError(RuntimeError):
    """The data failed its quality gates (or was never checked): nothing may be synced."""


# --- suites as code --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationSpec:
    type: str
    kwargs: dict[str, Any]
    severity: str
    description: str


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    batch: str
    expectations: tuple[ExpectationSpec, ...]
    where: str | None = None
    identify_rows_by: tuple[str, ...] = ()
    scope: str = "build"

    def batch_query(self) -> str:
        query = f"select * from {QUALITY_SCHEMA}.{self.batch}"
        return f"{query} where {self.where}" if self.where else query


def expectations_dir(root: Path | None = None) -> Path:
    return (root or project_dir()) / "expectations"


#: parsed suite files by (path, mtime, size): every sync reads the suites through the gate,
#: and parsing their YAML is most of what a sync with nothing to send costs
_SUITE_FILES: dict[tuple[str, int, int], Any] = {}


def _read_suite_file(path: Path) -> Any:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _SUITE_FILES:
        _SUITE_FILES[key] = yaml.safe_load(path.read_text()) or {}
    return copy.deepcopy(_SUITE_FILES[key])


def load_suites(root: Path | None = None) -> list[Suite]:
    """Every suite under expectations/, checked for the mistakes a hand edit makes."""
    suites = []
    for path in sorted(expectations_dir(root).glob("*.yml")):
        raw = _read_suite_file(path)
        try:
            specs = tuple(
                ExpectationSpec(
                    type=item["type"],
                    kwargs=dict(item.get("kwargs") or {}),
                    severity=item.get("severity", "critical"),
                    description=item["description"],
                )
                for item in raw["expectations"]
            )
            suite = Suite(
                name=raw["name"],
                description=raw["description"],
                batch=raw["batch"],
                expectations=specs,
                where=raw.get("where"),
                identify_rows_by=tuple(raw.get("identify_rows_by") or ()),
                scope=raw.get("scope", "build"),
            )
        except (KeyError, TypeError) as exc:
            raise CheckError(f"{path}: missing or malformed key {exc}") from exc
        if suite.scope not in SCOPES:
            raise CheckError(f"{path}: unknown scope {suite.scope!r}; use one of {SCOPES}")
        bad = [s.severity for s in specs if s.severity not in SEVERITIES]
        if bad:
            raise CheckError(f"{path}: unknown severity {bad[0]!r}; use one of {SEVERITIES}")
        batch_file = expectations_dir(root) / "batches" / f"{suite.batch}.sql"
        if not batch_file.exists():
            raise CheckError(f"{path}: batch {suite.batch!r} has no query at {batch_file}")
        suites.append(suite)
    if not suites:
        raise CheckError(f"no suites under {expectations_dir(root)}")
    return suites


# --- results ---------------------------------------------------------------------------------


@dataclass
class CheckResult:
    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    description: str
    details: str

    @property
    def status(self) -> str:
        if self.success:
            return "pass"
        return "fail" if self.severity == "critical" else "warn"

    @property
    def message(self) -> str:
        return f"{self.suite}: {self.description}: {self.details}"


@dataclass
class CheckRun:
    run_id: str
    target: str
    as_of: str
    checked_at: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    data_docs: str | None = None
    #: the build of the marts when they were checked (None: no marts yet, or a mix of builds)
    build_id: str | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "warn"]

    @property
    def success(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        data = asdict(self)
        data["success"] = self.success
        for item, result in zip(data["results"], self.results, strict=True):
            item["status"] = result.status
        return json.dumps(data, indent=2)

    def format_table(self) -> str:
        width = max(len(f"{r.suite}: {r.description}") for r in self.results)
        build = f", build {self.build_id}" if self.build_id else ""
        lines = [f"quality checks on {self.target} as of {self.as_of}{build}", ""]
        for r in self.results:
            label = f"{r.suite}: {r.description}"
            lines.append(f"  {r.status.upper():<5} {label:<{width}}  {r.details}")
        verdict = "passed" if self.success else "FAILED"
        total = sum(self.seconds.values())
        lines += [
            "",
            f"{verdict}: {len(self.results)} expectations, {len(self.failures)} failed, "
            f"{len(self.warnings)} warnings ({total:.1f}s)",
        ]
        if self.data_docs:
            lines.append(f"data docs: {self.data_docs}")
        return "\n".join(lines)


# --- compile the batch queries with dbt --------------------------------------------------------


@dataclass(frozen=True)
class SegmentCatalog:
    """The segment ids and the sets the audience rules need, from the segment models' YAML."""

    segment_ids: tuple[str, ...]
    prospect_segment_ids: tuple[str, ...]


def segment_catalog(manifest: dict[str, Any]) -> SegmentCatalog:
    segments: dict[str, dict[str, Any]] = {}
    for node in manifest["nodes"].values():
        meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
        if node.get("resource_type") == "model" and "segment" in meta:
            segments[node["name"]] = meta["segment"]
    return SegmentCatalog(
        segment_ids=tuple(sorted(segments)),
        prospect_segment_ids=tuple(
            sorted(s for s, m in segments.items() if m.get("audience") in PROSPECT_AUDIENCES)
        ),
    )


def compile_batches(target: str, as_of: datetime) -> tuple[dict[str, str], SegmentCatalog]:
    """The SQL of every batch query for `target` and `as_of`, and the segment catalog."""
    result = run_dbt(
        ["compile", "--quiet", "--select", "resource_type:analysis"], target=target, as_of=as_of
    )
    batches = {r.node.name: r.node.compiled_code for r in result.result.results}
    manifest_path = target_dir() / "manifest.json"
    return batches, segment_catalog(json.loads(manifest_path.read_text()))


def materialize_batches(
    warehouse: Warehouse, batches: dict[str, str], names: Sequence[str]
) -> dict[str, float]:
    """Run each batch query once into a table of schema `quality`; seconds per batch."""
    seconds: dict[str, float] = {}
    warehouse.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    for name in names:
        if name not in batches:
            raise CheckError(f"batch {name!r} was not compiled; is it under expectations/batches?")
        started = time.perf_counter()
        warehouse.execute(f"drop table if exists {QUALITY_SCHEMA}.{name}")
        try:
            warehouse.execute(f"create table {QUALITY_SCHEMA}.{name} as {batches[name]}")
        except Exception as exc:
            raise CheckError(f"batch {name} failed in the warehouse: {exc}") from exc
        seconds[name] = time.perf_counter() - started
    return seconds


# --- validate with Great Expectations ----------------------------------------------------------


def _gx_context(out: Path) -> Any:
    """GX's file context under <output>/gx (suites, results history), docs in data_docs/."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(out))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = data_docs_dir(out)
    context.variables.data_docs_sites = {
        "local_site": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    context.variables.save()
    return context


def data_docs_dir(out: Path | None = None) -> Path:
    """Where the Data Docs are written: <output>/data_docs (index.html)."""
    return (out or output_dir()) / "data_docs"


def _postgres_connection_string(database: str) -> str:
    # the password stays in the environment: GX substitutes ${PGPASSWORD} when it connects
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    secret = ":${PGPASSWORD}" if os.environ.get("PGPASSWORD") else ""
    return f"postgresql+psycopg2://{user}{secret}@{host}:{port}/{database}"


def _to_pandas(warehouse: DuckDBWarehouse, query: str) -> Any:
    import pyarrow as pa

    table = warehouse.con.sql(query).to_arrow_table()
    # decimals become floats, so pandas compares them as numbers
    columns = [
        col.cast(pa.float64()) if pa.types.is_decimal(col.type) else col for col in table.columns
    ]
    return pa.table(columns, names=table.column_names).to_pandas()


def gx_expectation_suite(suite: Suite) -> Any:
    """The suite as a GX ExpectationSuite; a CheckError names an unknown expectation."""
    import great_expectations as gx
    from great_expectations.exceptions import (
        ExpectationNotFoundError,
        InvalidExpectationKwargsError,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for spec in suite.expectations:
        try:
            expectations.append(
                ExpectationConfiguration(
                    type=spec.type,
                    kwargs=spec.kwargs,
                    meta={"description": spec.description},
                    severity=spec.severity,
                ).to_domain_obj()
            )
        except (ExpectationNotFoundError, InvalidExpectationKwargsError, ValueError) as exc:
            raise CheckError(f"suite {suite.name}: {spec.description}: {exc}") from exc
    return gx.ExpectationSuite(
        name=suite.name,
        expectations=expectations,
        meta={"description": suite.description, "batch": suite.batch},
    )


def run_name(as_of: str, build_id: str | None) -> str:
    """The name of a check run's validations in GX (and its Data Docs): the build it checked."""
    return f"as_of-{as_of.replace(' ', 'T').replace(':', '')}-build-{build_id or 'none'}"


def validate(
    warehouse: Warehouse,
    suites: Sequence[Suite],
    *,
    parameters: dict[str, Any],
    out: Path,
    name: str | None = None,
) -> list[CheckResult]:
    """Validate every suite's batch table with Great Expectations; store results, build the
    Data Docs (offline: audience.offline_docs). `name` names the run (the build checked)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    from audience.offline_docs import make_site_offline

    context = _gx_context(out)
    target = warehouse.target
    if isinstance(warehouse, PostgresWarehouse):
        source = context.data_sources.add_or_update_postgres(
            f"{target}_{warehouse.dbname}",
            connection_string=_postgres_connection_string(warehouse.dbname),
        )
    else:
        source = context.data_sources.add_or_update_pandas(f"{target}_warehouse")

    results: list[CheckResult] = []
    for suite in suites:
        gx_suite = context.suites.add_or_update(gx_expectation_suite(suite))
        batch_parameters: dict[str, Any] = {}
        if suite.name in source.get_asset_names():  # the batch query changes with as_of
            source.delete_asset(suite.name)
        if isinstance(warehouse, PostgresWarehouse):
            asset = source.add_query_asset(suite.name, query=suite.batch_query())
            batch = asset.add_batch_definition_whole_table("current")
        else:
            assert isinstance(warehouse, DuckDBWarehouse)
            asset = source.add_dataframe_asset(suite.name)
            batch = asset.add_batch_definition_whole_dataframe("current")
            batch_parameters = {"dataframe": _to_pandas(warehouse, suite.batch_query())}
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"{source.name}.{suite.name}", data=batch, suite=gx_suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"{source.name}.{suite.name}",
                validation_definitions=[definition],
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": list(suite.identify_rows_by),
                    "partial_unexpected_count": SHOWN_ROWS,
                },
            )
        )
        outcome = checkpoint.run(
            batch_parameters=batch_parameters,
            expectation_parameters=parameters,
            run_id=RunIdentifier(run_name=name) if name else None,
        )
        for validation in outcome.run_results.values():
            results.extend(_check_results(suite, validation.results))
    context.build_data_docs()
    make_site_offline(data_docs_dir(out), {s.name: s.batch for s in suites}, QUALITY_SCHEMA)
    return results


def _check_results(suite: Suite, gx_results: Sequence[Any]) -> Iterator[CheckResult]:
    by_description = {spec.description: spec for spec in suite.expectations}
    for item in gx_results:
        config = item.expectation_config
        spec = by_description[(config.meta or {})["description"]]
        yield CheckResult(
            suite=suite.name,
            expectation=config.type,
            column=config.kwargs.get("column") or config.kwargs.get("column_B"),
            severity=spec.severity,
            success=bool(item.success),
            description=spec.description,
            details=_details(item, suite.identify_rows_by),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() else round(number, 3)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _details(item: Any, identify_rows_by: Sequence[str]) -> str:
    """A readable account of one expectation result: what was seen, which rows failed."""
    info = item.exception_info or {}
    if info.get("raised_exception"):
        return f"could not be evaluated: {info.get('exception_message')}"
    result = item.result or {}
    if item.success:
        if "observed_value" in result:
            return f"observed {_plain(result['observed_value'])}"
        return f"{result.get('element_count', 0)} rows ok"
    if "observed_value" in result:
        return f"observed {_plain(result['observed_value'])}"
    rows = result.get("partial_unexpected_index_list") or []
    count = result.get("unexpected_count", len(rows))
    if rows:
        shown = "; ".join(
            ", ".join(f"{name}={_plain(row.get(name))}" for name in identify_rows_by if name in row)
            or ", ".join(f"{k}={_plain(v)}" for k, v in row.items())
            for row in rows[:SHOWN_ROWS]
        )
    else:
        values = result.get("partial_unexpected_list") or []
        shown = ", ".join(repr(_plain(v)) for v in values[:SHOWN_ROWS])
    more = f" (and {count - SHOWN_ROWS} more)" if count > SHOWN_ROWS else ""
    return f"{count} unexpected: {shown}{more}"


# --- the build the marts hold -----------------------------------------------------------------

#: the public marts every build writes and the syncs read (each export of models/exports/ too)
BUILT_MARTS = ("contacts", "segment_membership")
MARTS_SCHEMA = "marts"
#: where dbt's on-run-end hook logs each build (macros/builds/record_build.sql)
BUILDS_TABLE = f"{QUALITY_SCHEMA}.dbt_builds"


@dataclass(frozen=True)
class Build:
    """One dbt build of the marts: its id (dbt's invocation_id) and what the log says."""

    build_id: str
    as_of: str
    finished_at: str | None = None
    success: bool | None = None

    def describe(self) -> str:
        when = f", finished {self.finished_at}" if self.finished_at else ""
        return f"build {self.build_id} (as_of {self.as_of}{when})"


def built_relations(root: Path | None = None) -> tuple[str, ...]:
    """The relations of schema marts that must come from one build: the public marts the
    syncs read and every export model (models/exports/)."""
    exports = sorted(p.stem for p in ((root or project_dir()) / "models" / "exports").glob("*.sql"))
    return (*BUILT_MARTS, *exports)


def single_build(build_ids: dict[str, Sequence[str | None]]) -> str:
    """The one build id found in every relation (relation -> its distinct build ids); a
    QualityGateError when there is none, a row without one, or more than one build."""
    found = {value for values in build_ids.values() for value in values}
    if not found:
        raise QualityGateError("the marts are empty: no build to check or sync; run `audience run`")
    if len(found) > 1:
        detail = "; ".join(
            f"{name}: {', '.join(sorted(str(v) for v in values))}"
            for name, values in build_ids.items()
            if values
        )
        raise QualityGateError(
            f"the marts are a mix of builds ({detail}): they must come from one `dbt build`; "
            "rebuild them (`audience run` or `dbt build`), then run `audience check`"
        )
    (build_id,) = found
    if build_id is None:
        raise QualityGateError(
            "the marts hold rows without a build_id (written outside a dbt build); rebuild "
            "them (`audience run` or `dbt build`), then run `audience check`"
        )
    return build_id


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.strftime(AS_OF_FORMAT) if isinstance(value, datetime) else str(value)


def current_build(warehouse: Warehouse) -> Build:
    """The build the marts hold now, read from their build_id column (QualityGateError when
    there are no marts, or they mix builds)."""
    build_ids: dict[str, list[str | None]] = {}
    for name in built_relations():
        try:
            rows = warehouse.query(f"select distinct build_id from {MARTS_SCHEMA}.{name}")
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0]
            raise QualityGateError(
                f"cannot read the build of {MARTS_SCHEMA}.{name} ({reason}); build the marts "
                "(`audience run` or `dbt build`), then run `audience check`"
            ) from exc
        build_ids[name] = [row[0] for row in rows]
    build_id = single_build(build_ids)
    as_of = warehouse.query(f"select max(as_of) from {MARTS_SCHEMA}.contacts")[0][0]
    try:
        logged = warehouse.query(
            f"select finished_at, success from {BUILDS_TABLE} where build_id = ?", (build_id,)
        )
    except Exception:  # built before the build log existed
        logged = []
    finished_at, success = logged[0] if logged else (None, None)
    return Build(build_id, _as_text(as_of) or "", _as_text(finished_at), success)


# --- record the verdict where the syncs read it -----------------------------------------------

_RUNS_DDL = f"""
create table if not exists {QUALITY_SCHEMA}.check_runs (
    run_id varchar, target varchar, as_of timestamp, checked_at timestamp,
    success boolean, expectations integer, failures integer, warnings integer,
    seconds double precision, data_docs varchar, build_id varchar
)"""
_RUNS_COLUMNS = (
    "run_id, target, as_of, checked_at, success, expectations, failures, warnings, seconds, "
    "data_docs, build_id"
)
_RESULTS_DDL = f"""
create table if not exists {QUALITY_SCHEMA}.check_results (
    run_id varchar, as_of timestamp, suite varchar, expectation varchar, column_name varchar,
    severity varchar, status varchar, description varchar, details varchar
)"""


def record(warehouse: Warehouse, run: CheckRun) -> None:
    """Append the run and its results to quality.check_runs / quality.check_results."""
    warehouse.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    warehouse.execute(_RUNS_DDL)
    # check_runs of a warehouse checked before runs named their build
    warehouse.execute(
        f"alter table {QUALITY_SCHEMA}.check_runs add column if not exists build_id varchar"
    )
    warehouse.execute(_RESULTS_DDL)
    warehouse.execute(
        f"insert into {QUALITY_SCHEMA}.check_runs ({_RUNS_COLUMNS}) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.target,
            run.as_of,
            run.checked_at,
            run.success,
            len(run.results),
            len(run.failures),
            len(run.warnings),
            round(sum(run.seconds.values()), 3),
            run.data_docs,
            run.build_id,
        ),
    )
    for r in run.results:
        warehouse.execute(
            f"insert into {QUALITY_SCHEMA}.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.as_of,
                r.suite,
                r.expectation,
                r.column,
                r.severity,
                r.status,
                r.description,
                r.details[:2000],
            ),
        )


@dataclass(frozen=True)
class RecordedResult:
    """One expectation result of a recorded check run, as the gate reads it."""

    suite: str
    run_id: str
    checked_at: Any
    build_id: str | None
    as_of: str | None
    status: str
    description: str
    details: str


def gate_verdict(
    build: Build, results: Sequence[RecordedResult], scopes: dict[str, str]
) -> str | None:
    """Why `build` may not be synced, or None when it may.

    `scopes` maps each suite the gate wants to what its verdict belongs to: "build" suites
    count only runs that checked this build; "as_of" suites (the raw tables, checked before
    the build) count runs of the build's as_of. Each suite's latest such run decides; a
    failure is reported before what was never checked.
    """
    latest: dict[str, tuple[Any, str]] = {}
    for r in results:
        scope = scopes.get(r.suite)
        matches = (scope == "build" and r.build_id == build.build_id) or (
            scope == "as_of" and r.as_of == build.as_of
        )
        if matches and (r.suite not in latest or str(r.checked_at) > str(latest[r.suite][0])):
            latest[r.suite] = (r.checked_at, r.run_id)
    failed = [
        r
        for r in results
        if r.suite in latest and latest[r.suite][1] == r.run_id and r.status == "fail"
    ]
    if failed:
        lines = "\n".join(f"  {r.suite}: {r.description}: {r.details}" for r in failed)
        runs = ", ".join(sorted({f"run {r.run_id} at {r.checked_at}" for r in failed}))
        return (
            f"the quality checks of {build.describe()} failed ({runs}); fix the data, rebuild "
            f"and run `audience check`:\n{lines}"
        )
    missing = sorted(set(scopes) - set(latest))
    of_builds = {suite for suite, scope in scopes.items() if scope == "build"}
    if not latest or (of_builds and not of_builds & set(latest)):
        return (
            f"{build.describe()} was never checked: the marts changed since the last "
            "`audience check`; run `audience check` before syncing"
        )
    if missing:
        return (
            f"suites never checked for {build.describe()}: {', '.join(missing)}; "
            "run `audience check`"
        )
    return None


def require_passing_checks(
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    suites: Sequence[str] | None = None,
) -> Build:
    """Raise QualityGateError unless the build the marts hold now passed its latest check.

    The syncs call this before they send anything: marts that failed their freshness,
    volume or validity checks, were rebuilt since they were checked, or mix builds, are not
    sent. The build is read from the marts themselves (column build_id, one dbt invocation),
    never assumed from as_of. Suites may be checked in separate runs (the orchestration
    checks raw tables before the build and the rest after it): each suite's latest run
    counts, of this build, or for the raw suites (scope as_of) of the build's as_of.
    `as_of`, when given, is the as_of the caller expects the marts to describe.
    Returns the build that passed.
    """
    build = current_build(warehouse)
    expected = _as_text(as_of)
    if expected and expected != build.as_of:
        raise QualityGateError(
            f"the marts hold {build.describe()}, not a build as of {expected}; build and "
            "check that as_of first"
        )
    if build.success is False:
        raise QualityGateError(
            f"{build.describe()} did not complete (see quality.dbt_builds); fix it and rebuild"
        )
    by_name = {s.name: s for s in load_suites()}
    scopes = {
        name: by_name[name].scope if name in by_name else "build" for name in suites or by_name
    }
    try:
        rows = warehouse.query(
            f"""select x.suite, r.run_id, r.checked_at, r.build_id, r.as_of, x.status,
                x.description, x.details
            from {QUALITY_SCHEMA}.check_runs as r
            inner join {QUALITY_SCHEMA}.check_results as x on r.run_id = x.run_id
            where r.build_id = ? or r.as_of = cast(? as timestamp)
            order by x.suite, x.description""",
            (build.build_id, build.as_of),
        )
    except Exception as exc:  # no quality schema yet, or runs from before build ids
        raise QualityGateError(
            f"no quality check has run on {build.describe()}; run `audience check` ({exc})"
        ) from exc
    results = [
        RecordedResult(row[0], row[1], row[2], row[3], _as_text(row[4]), *row[5:8]) for row in rows
    ]
    reason = gate_verdict(build, results, scopes)
    if reason:
        raise QualityGateError(reason)
    return build


def latest_build_as_of(warehouse: Warehouse) -> datetime:
    """The as_of the marts were last built for (what `audience check` checks by default)."""
    try:
        rows = warehouse.query("select max(as_of) from marts.segment_membership")
    except Exception as exc:
        raise CheckError(f"no built marts to check ({exc}); run `audience run` first") from exc
    if not rows or rows[0][0] is None:
        raise CheckError("marts.segment_membership is empty: pass --as-of to check a build")
    return rows[0][0]


# --- the staging figures of each check, for the next one to compare with ---------------------

#: the batch whose figures are kept, and where (read back by batches/check_staging.sql)
STAGING_BATCH = "check_staging"
STAGING_HISTORY = f"{QUALITY_SCHEMA}.staging_volume_history"
_STAGING_HISTORY_DDL = f"""
create table if not exists {STAGING_HISTORY} (
    run_id varchar, build_id varchar, as_of timestamp, checked_at timestamp, passed boolean,
    source_table varchar, quarantine_reason varchar, staged_rows bigint,
    quarantined_rows bigint, total_rows bigint
)"""


def ensure_staging_history(warehouse: Warehouse) -> None:
    """The history table exists before the first staging batch reads it."""
    warehouse.execute(f"create schema if not exists {QUALITY_SCHEMA}")
    warehouse.execute(_STAGING_HISTORY_DDL)


def record_staging_history(warehouse: Warehouse, run: CheckRun, suites: Sequence[Suite]) -> None:
    """Keep this run's staging figures, and whether they passed: the next check compares
    with the latest passing one (a failed build never becomes the baseline)."""
    judged = {s.name for s in suites if s.batch == STAGING_BATCH}
    if not judged:
        return
    passed = not any(r.suite in judged and r.status == "fail" for r in run.results)
    warehouse.execute(
        f"""insert into {STAGING_HISTORY}
        select ?, ?, cast(? as timestamp), cast(? as timestamp), ?, source_table,
            quarantine_reason, staged_rows, quarantined_rows, total_rows
        from {QUALITY_SCHEMA}.{STAGING_BATCH}""",
        (run.run_id, run.build_id, run.as_of, run.checked_at, passed),
    )


# --- the command ------------------------------------------------------------------------------


def _build_id_or_none(warehouse: Warehouse) -> str | None:
    """The marts' build, or None when there is none yet or they mix builds (the
    mart_freshness suite then says which)."""
    try:
        return current_build(warehouse).build_id
    except QualityGateError:
        return None


def run_checks(
    target: str,
    as_of: datetime,
    *,
    out: Path | None = None,
    suites: Sequence[Suite] | None = None,
) -> CheckRun:
    """Compile, materialize and validate every suite for `target` and `as_of`; record it."""
    out = out or output_dir()
    suites = list(suites or load_suites())
    run = CheckRun(
        run_id=uuid.uuid4().hex[:16],
        target=target,
        as_of=as_of.strftime(AS_OF_FORMAT),
        checked_at=datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
    )
    started = time.perf_counter()
    batches, catalog = compile_batches(target, as_of)
    run.seconds["compile"] = round(time.perf_counter() - started, 3)
    parameters = {
        "as_of": [run.as_of],
        "segment_ids": list(catalog.segment_ids),
        "prospect_segment_ids": list(catalog.prospect_segment_ids),
    }
    with connected(target) as warehouse:
        run.build_id = _build_id_or_none(warehouse)
        ensure_staging_history(warehouse)
        started = time.perf_counter()
        names = sorted({s.batch for s in suites})
        materialize_batches(warehouse, batches, names)
        run.seconds["batches"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        run.results = validate(
            warehouse,
            suites,
            parameters=parameters,
            out=out,
            name=run_name(run.as_of, run.build_id),
        )
        run.seconds["validate"] = round(time.perf_counter() - started, 3)
        run.data_docs = str(data_docs_dir(out) / "index.html")
        rebuilt = _build_id_or_none(warehouse)
        if rebuilt != run.build_id:
            raise CheckError(
                f"the marts were rebuilt while they were checked (build {run.build_id}, then "
                f"{rebuilt}); run `audience check` again"
            )
        record(warehouse, run)
        record_staging_history(warehouse, run, suites)
    (out / "check_results.json").write_text(run.to_json())
    return run
