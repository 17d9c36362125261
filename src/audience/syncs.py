"""`audience sync`: reverse ETL that sends only what changed, and never sends bad data.

Each destination in syncs.yml sends one export model (models/exports/). What it last
delivered is kept in the warehouse (sync_state.delivered: record key, audience, payload
fingerprint and the sent fields), and each run computes in SQL what to add, change and
remove by record key. Unchanged data sends nothing.

Safety: a sync refuses to run when the quality gates of the build failed (or never ran),
when its export is empty, or when it would remove or change more than a configured share
of an audience (the circuit breaker), unless forced (the gates cannot be forced). A dry run prints
the changes and sends nothing.

Reliability: the state advances one acknowledged batch at a time, in a transaction. A
destination that fails midway keeps what it acknowledged; the retry sends the rest and
nothing twice. Records a destination rejects are kept with the reason in
sync_state.rejections and stay pending, so the next run retries them. Every run is logged
in sync_state.sync_runs: a `running` row when it starts, its outcome when it ends; a run
that finds an earlier `running` row of its destination (a killed process) marks it
`interrupted`. One destination failing or refused never stops the others (`run_syncs`).

Delivery is plain code over two well-kept libraries: `requests` sessions with urllib3's
`Retry` (exponential backoff, Retry-After on 429 and 503, transient 5xx) for the HTTP
destinations, and psycopg2 for the CRM database. The batching and the state are in the
warehouse, where the change detection already is.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pyarrow as pa
import yaml

from audience import consent
from audience.checks import (
    QualityGateError,
    current_build,
    latest_build_as_of,
    require_passing_checks,
)
from audience.contract import RAW_TABLES
from audience.dbt import AS_OF_FORMAT
from audience.progress import SILENT, Reporter
from audience.project import output_dir, project_dir
from audience.redaction import redact, redacting_logs, secret_values
from audience.warehouse import Warehouse, postgres_params, quote_ident

log = logging.getLogger(__name__)

STATE_SCHEMA = "sync_state"
EXPORT_SCHEMA = "marts"
KINDS = ("crm_postgres", "audience_api", "ad_files", "webhook")
#: settings (`*_env` options) whose values may be shown: everything else a destination
#: reads from the environment is treated as a secret
PUBLIC_SETTINGS = frozenset({"directory_env"})


class SyncError(RuntimeError):
    """A sync is misconfigured or its destination failed; the message says which and why.
    Raised by a run of one destination, it carries that run (`run`, logged as failed or
    refused in sync_state.sync_runs)."""

    run: SyncRun | None = None


class SyncRefused(SyncError):
    """A safety rule stopped the sync before it sent anything."""


# --- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DestinationConfig:
    name: str
    kind: str
    model: str
    fields: dict[str, str]
    channels: tuple[str, ...] = ()
    batch_size: int = 1000
    max_remove_share: float = 0.2
    max_change_share: float = 0.5
    min_protected_records: int = 5
    append_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def env(self, key: str) -> str | None:
        """The value of the environment variable the option `key` names, if set."""
        name = self.options.get(key)
        return os.environ.get(name) if name else None

    def secrets(self) -> set[str]:
        """What must never be shown of this destination's settings: the value of every
        environment variable it reads (URL, token, the CRM's DSN; PGPASSWORD for the CRM's
        connection) and the pieces of those URLs (see audience.redaction.secret_values).
        A plain database name is no secret: masking it would mask words of messages."""
        found: set[str] = set()
        for key in self.options:
            if key.endswith("_env") and key not in PUBLIC_SETTINGS:
                value = self.env(key)
                if key == "database_env" and value and not _is_dsn(value):
                    continue  # a database's name: shown, as it names nothing secret
                found |= secret_values(value)
        if self.kind == "crm_postgres":
            found |= secret_values(os.environ.get("PGPASSWORD"))
        return found


def _is_dsn(value: str) -> bool:
    """A connection string (URL or libpq key=value) rather than a database's name."""
    return "://" in value or "=" in value


def all_secrets(configs: dict[str, DestinationConfig] | None = None) -> set[str]:
    """The secrets of every destination of syncs.yml (none when it cannot be read)."""
    try:
        configs = load_config() if configs is None else configs
    except (OSError, SyncError, yaml.YAMLError):
        return set()
    return set().union(*(config.secrets() for config in configs.values()))


def load_config(path: Path | None = None) -> dict[str, DestinationConfig]:
    path = path or project_dir() / "syncs.yml"
    raw = yaml.safe_load(path.read_text()) or {}
    configs: dict[str, DestinationConfig] = {}
    known = set(DestinationConfig.__dataclass_fields__) - {"name", "options"}
    for name, spec in (raw.get("destinations") or {}).items():
        spec = dict(spec)
        if spec.get("kind") not in KINDS:
            raise SyncError(f"{path}: destination {name}: kind must be one of {', '.join(KINDS)}")
        if not spec.get("model") or not spec.get("fields"):
            raise SyncError(f"{path}: destination {name} needs a model and fields")
        settings = {k: spec.pop(k) for k in list(spec) if k in known}
        settings["channels"] = tuple(settings.get("channels") or ())
        consent.reaches(name, spec)  # `reaches` (kept in options) names a known channel
        configs[name] = DestinationConfig(name=name, options=spec, **settings)
    return configs


# --- changes ----------------------------------------------------------------------------------


@dataclass
class Change:
    op: str  # add | change | remove
    record_key: str
    audience_key: str
    payload_hash: str | None
    fields: dict[str, Any]  # destination field -> value (for a remove: as last delivered)


@dataclass
class Delivery:
    """A destination's answer to one batch: what it took, and what it refused and why."""

    acked: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


class Destination(Protocol):
    def send(self, changes: Sequence[Change]) -> Delivery: ...

    def finish(self, state: StateReader) -> None: ...

    def close(self) -> None: ...


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _export_query(config: DestinationConfig) -> str:
    columns = ", ".join(
        f"{quote_ident(column)} as {quote_ident(target)}"
        for target, column in config.fields.items()
    )
    query = (
        f"select record_key, audience_key, payload_hash, {columns} "
        f"from {EXPORT_SCHEMA}.{quote_ident(config.model)}"
    )
    if config.channels:
        listed = ", ".join(f"'{c}'" for c in config.channels)
        query += f" where channel in ({listed})"
    # only the people the destination's channel reaches (audience.consent)
    if reach := consent.reach_condition(config.name, config.options):
        query += f" {'and' if config.channels else 'where'} {reach}"
    return query


def diff(warehouse: Warehouse, config: DestinationConfig) -> list[Change]:
    """What to add, change and remove, by record key, computed in the warehouse."""
    fields = list(config.fields)
    wanted = ", ".join(f"src.{quote_ident(f)}" for f in fields)
    nulls = ", ".join(f"null as {quote_ident(f)}" for f in fields)
    sql = f"""
        with src as ({_export_query(config)}),
        st as (
            select record_key, audience_key, payload_hash, payload
            from {STATE_SCHEMA}.delivered where destination = ?
        )
        select
            case when st.record_key is null then 'add' else 'change' end as op,
            src.record_key, src.audience_key, src.payload_hash, null as payload, {wanted}
        from src left join st on src.record_key = st.record_key
        where st.record_key is null
            {"" if config.append_only else "or st.payload_hash <> src.payload_hash"}
    """
    if not config.append_only:
        sql += f"""
        union all
        select 'remove' as op, st.record_key, st.audience_key, null as payload_hash,
            st.payload, {nulls}
        from st left join src on st.record_key = src.record_key
        where src.record_key is null
        """
    changes = []
    for row in warehouse.query(sql, (config.name,)):
        op, key, audience, fingerprint, payload = row[:5]
        values = (
            json.loads(payload)
            if op == "remove"
            else {f: _plain(v) for f, v in zip(fields, row[5:], strict=True)}
        )
        changes.append(Change(op, key, audience, fingerprint, values))
    order = {"remove": 0, "change": 1, "add": 2}
    changes.sort(key=lambda c: (c.audience_key, order[c.op], c.record_key))
    return changes


# --- state in the warehouse -------------------------------------------------------------------

_SYNC_RUNS_COLUMNS = (
    "run_id, destination, as_of, started_at, finished_at, status, dry_run, added, changed, "
    "removed, failed, seconds, message, build_id"
)

_BATCH_SCHEMA = pa.schema(
    [
        ("destination", pa.string()),
        ("record_key", pa.string()),
        ("op", pa.string()),
        ("audience_key", pa.string()),
        ("payload_hash", pa.string()),
        ("payload", pa.string()),
        ("delivered_at", pa.timestamp("us")),
        ("run_id", pa.string()),
    ]
)


#: the one definition of the state tables: a dbt macro the build runs (on PostgreSQL, for
#: the sync roles) and the syncs render here
STATE_DDL_MACRO = Path("macros") / "syncs" / "sync_state.sql"
_CREATE_SCHEMA = re.compile(r"create schema if not exists (\w+)$", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"create table if not exists (\w+)\.(\w+)\b", re.IGNORECASE)
_ADD_COLUMN = re.compile(
    r"alter table (\w+)\.(\w+) add column if not exists (\w+)\b", re.IGNORECASE
)


def state_ddl() -> list[str]:
    """The statements of macro sync_state_ddl, in order."""
    import jinja2

    template = jinja2.Environment().from_string((project_dir() / STATE_DDL_MACRO).read_text())
    text = str(template.module.sync_state_ddl())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def _schema_exists(warehouse: Warehouse, schema: str) -> bool:
    rows = warehouse.query(
        "select count(*) from information_schema.schemata where schema_name = ?", (schema,)
    )
    return bool(rows[0][0])


def ensure_state(warehouse: Warehouse) -> None:
    """Create what is missing of the state tables, and only that: where the build created
    them, a sync role runs without the right to create schemas (a `create ... if not
    exists` still asks for it) or to alter tables it does not own."""
    for statement in state_ddl():
        if match := _CREATE_SCHEMA.match(statement):
            if _schema_exists(warehouse, match.group(1)):
                continue
        elif match := _CREATE_TABLE.match(statement):
            if warehouse.column_names(match.group(1), match.group(2)):
                continue
        elif match := _ADD_COLUMN.match(statement):
            schema, table, column = match.groups()
            if column in warehouse.column_names(schema, table):
                continue
        warehouse.execute(statement)


class StateReader:
    """Read access to what a destination holds, as the state says."""

    def __init__(self, warehouse: Warehouse, destination: str) -> None:
        self.warehouse = warehouse
        self.destination = destination

    def payloads(self, audience_key: str) -> list[dict[str, Any]]:
        rows = self.warehouse.query(
            f"select payload from {STATE_SCHEMA}.delivered "
            "where destination = ? and audience_key = ? order by record_key",
            (self.destination, audience_key),
        )
        return [json.loads(payload) for (payload,) in rows]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def advance_state(
    warehouse: Warehouse, config: DestinationConfig, run_id: str, done: Sequence[Change]
) -> None:
    """Record acknowledged changes: one transaction per batch."""
    if not done:
        return
    now = _now()
    scratch = f"pending_{config.name}"
    batch = pa.Table.from_pylist(
        [
            {
                "destination": config.name,
                "record_key": c.record_key,
                "op": c.op,
                "audience_key": c.audience_key,
                "payload_hash": c.payload_hash,
                "payload": json.dumps(c.fields, sort_keys=True, default=str),
                "delivered_at": now,
                "run_id": run_id,
            }
            for c in done
        ],
        schema=_BATCH_SCHEMA,
    )
    warehouse.execute(
        f"create table if not exists {STATE_SCHEMA}.{scratch} ("
        "destination varchar, record_key varchar, op varchar, audience_key varchar, "
        "payload_hash varchar, payload varchar, delivered_at timestamp, run_id varchar)"
    )
    warehouse.begin()
    try:
        warehouse.execute(f"delete from {STATE_SCHEMA}.{scratch}")
        warehouse.insert_arrow(STATE_SCHEMA, scratch, batch)
        warehouse.execute(
            f"delete from {STATE_SCHEMA}.delivered where destination = ? and record_key in "
            f"(select record_key from {STATE_SCHEMA}.{scratch})",
            (config.name,),
        )
        warehouse.execute(
            f"insert into {STATE_SCHEMA}.delivered select destination, record_key, "
            "audience_key, payload_hash, payload, delivered_at, run_id "
            f"from {STATE_SCHEMA}.{scratch} where op <> 'remove'"
        )
        warehouse.execute(
            f"delete from {STATE_SCHEMA}.rejections where destination = ? and record_key in "
            f"(select record_key from {STATE_SCHEMA}.{scratch})",
            (config.name,),
        )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise


def record_rejections(
    warehouse: Warehouse,
    config: DestinationConfig,
    run_id: str,
    rejected: dict[str, tuple[str, str]],
) -> None:
    """Keep each refused record with its reason; it stays pending and is retried next run."""
    if not rejected:
        return
    now = _now()
    secrets = config.secrets()
    for key, (op, reason) in rejected.items():
        warehouse.execute(
            f"delete from {STATE_SCHEMA}.rejections where destination = ? and record_key = ?",
            (config.name, key),
        )
        warehouse.execute(
            f"insert into {STATE_SCHEMA}.rejections values (?, ?, ?, ?, ?, ?)",
            (config.name, key, op, redact(reason, secrets)[:1000], run_id, now),
        )


# --- safety -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trip:
    """One audience a run would remove or change too much of (the circuit breaker)."""

    audience: str
    held: int
    op: str  # remove | change
    count: int
    limit: float

    @property
    def share(self) -> float:
        return self.count / self.held

    def describe(self) -> str:
        setting = "max_remove_share" if self.op == "remove" else "max_change_share"
        return (
            f"audience {self.audience}: holds {self.held}, would {self.op} {self.count} "
            f"({self.share:.0%}, limit {setting} {self.limit:.0%})"
        )


def breaker_trips(
    held: dict[str, int],
    removes: dict[str, int],
    changes: dict[str, int],
    *,
    max_remove_share: float,
    max_change_share: float,
    min_protected_records: int,
) -> list[Trip]:
    """The audiences a run would remove or change too much of: where the removed (or changed)
    records are more than the allowed share of what the destination holds of the audience,
    and at least `min_protected_records` of them. Below that count it is churn (4 of a list
    of 7 leaving in a day is ordinary for a small windowed segment), so audiences smaller than
    it are never protected, and one of 10 emptied or rewritten is. An audience the
    destination does not hold yet (a first sync) is never tripped: nothing of it can be lost."""
    trips = []
    for op, counts, limit in (
        ("remove", removes, max_remove_share),
        ("change", changes, max_change_share),
    ):
        for audience, count in sorted(counts.items()):
            holds = held.get(audience, 0)
            if holds and count >= max(min_protected_records, 1) and count / holds > limit:
                trips.append(Trip(audience, holds, op, count, limit))
    return sorted(trips, key=lambda t: (t.audience, t.op))


def check_safety(
    warehouse: Warehouse, config: DestinationConfig, changes: Sequence[Change], *, force: bool
) -> None:
    """Refuse an empty export that would withdraw what the destination holds, and a run that
    removes or changes too much of an audience it holds (the circuit breaker), unless forced.
    An empty export to a destination that holds nothing (a B2C purchase log has no email
    audience yet) sends nothing and withdraws nothing: not refused."""
    if force:
        return
    exported = warehouse.query(f"select count(*) from ({_export_query(config)}) as export")[0][0]
    holds = warehouse.query(
        f"select count(*) from {STATE_SCHEMA}.delivered where destination = ?", (config.name,)
    )[0][0]
    if exported == 0 and holds:
        raise SyncRefused(
            f"{config.name}: export {config.model} is empty; refusing to withdraw everything "
            "(use --force if that is meant)"
        )
    removes: dict[str, int] = defaultdict(int)
    changed: dict[str, int] = defaultdict(int)
    for change in changes:
        if change.op == "remove":
            removes[change.audience_key] += 1
        elif change.op == "change":
            changed[change.audience_key] += 1
    if not removes and not changed:
        return
    held = dict(
        warehouse.query(
            f"select audience_key, count(*) from {STATE_SCHEMA}.delivered "
            "where destination = ? group by audience_key",
            (config.name,),
        )
    )
    trips = breaker_trips(
        held,
        removes,
        changed,
        max_remove_share=config.max_remove_share,
        max_change_share=config.max_change_share,
        min_protected_records=config.min_protected_records,
    )
    if trips:
        raise SyncRefused(
            f"{config.name}: refusing to send: {'; '.join(t.describe() for t in trips)}. "
            "Nothing was sent. If that is meant, run `audience sync "
            f"{config.name} --force`, or raise the setting for {config.name} in syncs.yml"
        )


# --- one run ----------------------------------------------------------------------------------


@dataclass
class SyncRun:
    run_id: str
    destination: str
    as_of: str
    dry_run: bool
    #: success | partial (some records rejected) | failed (delivery failed, or every record
    #: was rejected) | refused | dry_run | skipped (unconfigured, or the marts are older than
    #: what the destination already received); `running` and `interrupted` only in the log
    status: str = "running"
    added: int = 0
    changed: int = 0
    removed: int = 0
    failed: int = 0
    seconds: float = 0.0
    message: str = ""
    #: the build of the marts the run sent (the one whose quality checks passed)
    build_id: str | None = None
    pending: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    #: a few rejected records and the destination's reason (of `failed` rejected in all)
    rejections: dict[str, str] = field(default_factory=dict)
    #: skipped because a setting it needs is not in the environment
    unconfigured: bool = False
    #: failed on the way to the destination (a retry may get through), not refused or rejected
    retryable: bool = False
    #: earlier runs of this destination found `running` (killed) and marked interrupted
    interrupted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed, was refused or rejected (skipped and dry runs are ok)."""
        return self.status in {"success", "dry_run", "skipped"}

    @property
    def sent(self) -> int:
        return self.added + self.changed + self.removed

    def format_line(self) -> str:
        if self.status in {"skipped", "refused"}:
            return f"{self.destination}: {self.status}: {self.message}"
        if self.dry_run:
            counts = ", ".join(f"{n} to {op}" for op, n in self.pending.items()) or "nothing"
            lines = [f"{self.destination}: dry run: would send {counts}"]
            for op, keys in self.samples.items():
                lines.append(f"    {op}: {', '.join(keys)}")
            return "\n".join(lines)
        text = (
            f"{self.destination}: {self.status}: {self.added} added, {self.changed} changed, "
            f"{self.removed} removed, {self.failed} rejected ({self.seconds:.1f}s)"
        )
        if self.interrupted:
            text += f" (earlier run {', '.join(self.interrupted)} found interrupted)"
        return f"{text}: {self.message}" if self.message else text


INTERRUPTED_MESSAGE = (
    "the process ended before the run finished (killed, or the machine went down); what the "
    "destination acknowledged is recorded, and the next run sends the rest"
)


def _start_run(warehouse: Warehouse, run: SyncRun, started: datetime) -> None:
    """Log the run as `running`, first marking the destination's earlier runs still
    `running` (their process was killed) as `interrupted`."""
    stale = warehouse.query(
        f"select run_id from {STATE_SCHEMA}.sync_runs "
        "where destination = ? and status = 'running' and started_at < ? order by started_at",
        (run.destination, started),
    )
    if stale:
        run.interrupted = [run_id for (run_id,) in stale]
        log.warning(
            "%s: earlier run(s) %s never finished; marked interrupted",
            run.destination,
            ", ".join(run.interrupted),
        )
        warehouse.execute(
            f"update {STATE_SCHEMA}.sync_runs set status = 'interrupted', message = ? "
            "where destination = ? and status = 'running' and started_at < ?",
            (INTERRUPTED_MESSAGE, run.destination, started),
        )
    _insert_run(warehouse, run, started, finished=None)


def _insert_run(
    warehouse: Warehouse, run: SyncRun, started: datetime, finished: datetime | None
) -> None:
    warehouse.execute(
        f"insert into {STATE_SCHEMA}.sync_runs ({_SYNC_RUNS_COLUMNS}) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.destination,
            run.as_of,
            started,
            finished,
            run.status,
            run.dry_run,
            *_outcome(run),
        ),
    )


def _outcome(run: SyncRun) -> tuple[Any, ...]:
    """added, changed, removed, failed, seconds, message, build_id: what a run row records
    of how it went."""
    return (
        run.added,
        run.changed,
        run.removed,
        run.failed,
        round(run.seconds, 3),
        run.message[:2000],
        run.build_id,
    )


def _log_run(
    warehouse: Warehouse, run: SyncRun, started: datetime, secrets: set[str] | frozenset[str]
) -> None:
    """Record how the run (logged `running` when it started) ended; the message is redacted
    first (here and on the run, which the CLI and Dagster print)."""
    run.message = redact(run.message, secrets)
    warehouse.execute(
        f"update {STATE_SCHEMA}.sync_runs set finished_at = ?, status = ?, added = ?, "
        "changed = ?, removed = ?, failed = ?, seconds = ?, message = ?, build_id = ? "
        "where run_id = ? and destination = ?",
        (_now(), run.status, *_outcome(run), run.run_id, run.destination),
    )


def _newest_sent_as_of(warehouse: Warehouse, destination: str) -> datetime | None:
    """The latest as_of this destination was sent (a run that sent, not a dry run)."""
    rows = warehouse.query(
        f"select max(as_of) from {STATE_SCHEMA}.sync_runs "
        "where destination = ? and status in ('success', 'partial') and not dry_run",
        [destination],
    )
    return rows[0][0] if rows and rows[0][0] is not None else None


def _batches(changes: Sequence[Change], size: int) -> Iterator[list[Change]]:
    """Batches of one audience and one operation, at most `size` long."""
    current: list[Change] = []
    for change in changes:
        if current and (
            len(current) >= size
            or change.audience_key != current[0].audience_key
            or change.op != current[0].op
        ):
            yield current
            current = []
        current.append(change)
    if current:
        yield current


def sync_destination(
    warehouse: Warehouse,
    config: DestinationConfig,
    destination: Destination | None,
    *,
    as_of: datetime,
    dry_run: bool = False,
    force: bool = False,
    progress: Reporter = SILENT,
) -> SyncRun:
    """One run of one destination: gates, diff, safety, then batches with state advancing."""
    started_at = _now()
    started = time.perf_counter()
    run = SyncRun(uuid.uuid4().hex[:16], config.name, as_of.strftime(AS_OF_FORMAT), dry_run)
    secrets = config.secrets()
    ensure_state(warehouse)
    _start_run(warehouse, run, started_at)
    try:
        run.build_id = require_passing_checks(warehouse, as_of).build_id
        newer = _newest_sent_as_of(warehouse, config.name)
        if newer is not None and newer > as_of and not force and not dry_run:
            # a daily build as of midnight after a realtime build at 00:10, a backfill: the
            # destination already has a later picture; sending this one would take it back.
            # Decided before the diff, so neither the diff nor the breaker runs for it.
            run.status = "skipped"
            run.message = (
                f"the marts are as of {run.as_of}, older than the build as of "
                f"{newer.strftime(AS_OF_FORMAT)} this destination already received; the next "
                "later build brings it forward (--force sends the older picture)"
            )
            run.seconds = time.perf_counter() - started
            _log_run(warehouse, run, started_at, secrets)
            return run
        changes = diff(warehouse, config)
        # the changes come from the build that passed, not from one built since
        rebuilt = current_build(warehouse).build_id
        if rebuilt != run.build_id:
            raise QualityGateError(
                f"the marts were rebuilt while the sync read them (build {run.build_id}, then "
                f"{rebuilt}); run `audience check`, then sync again"
            )
        check_safety(warehouse, config, changes, force=force)
    except (QualityGateError, SyncRefused) as exc:
        run.status, run.message = "refused", str(exc).removeprefix(f"{config.name}: ")
        run.seconds = time.perf_counter() - started
        _log_run(warehouse, run, started_at, secrets)
        refused = (
            exc if isinstance(exc, SyncRefused) else SyncRefused(f"{config.name}: {run.message}")
        )
        refused.run = run
        if refused is exc:
            raise
        raise refused from None
    except Exception as exc:
        run.status, run.message = "failed", f"before sending: {type(exc).__name__}: {exc}"
        run.seconds = time.perf_counter() - started
        _log_run(warehouse, run, started_at, secrets)
        error = SyncError(f"{config.name}: {run.message}")
        error.run = run
        # not chained: the cause's text (an HTTP library's, naming the URL) would be printed
        # with a traceback; the redacted message names its type
        raise error from None

    if dry_run:
        for change in changes:
            run.pending[change.op] = run.pending.get(change.op, 0) + 1
            keys = run.samples.setdefault(change.op, [])
            if len(keys) < 5:
                keys.append(change.record_key)
        run.status = "dry_run"
        run.seconds = time.perf_counter() - started
        _log_run(warehouse, run, started_at, secrets)
        return run

    assert destination is not None
    counters = {"add": "added", "change": "changed", "remove": "removed"}
    sending = progress.task("sync", config.name, total=len(changes), unit="records")
    try:
        for batch in _batches(changes, config.batch_size):
            delivery = destination.send(batch)
            acked = set(delivery.acked)
            done = [c for c in batch if c.record_key in acked]
            advance_state(warehouse, config, run.run_id, done)
            for change in done:
                setattr(run, counters[change.op], getattr(run, counters[change.op]) + 1)
            refused = {
                c.record_key: (c.op, delivery.rejected[c.record_key])
                for c in batch
                if c.record_key in delivery.rejected
            }
            record_rejections(warehouse, config, run.run_id, refused)
            run.failed += len(refused)
            for key, (_, reason) in refused.items():
                if len(run.rejections) < 5:
                    run.rejections[key] = reason
            sending.advance(len(batch))
        destination.finish(StateReader(warehouse, config.name))
    except Exception as exc:
        run.status, run.retryable = "failed", True
        run.message = (
            f"delivery failed after {run.sent} records were acknowledged (they are recorded; "
            f"a retry sends the rest): {type(exc).__name__}: {exc}"
        )
        run.seconds = time.perf_counter() - started
        sending.done(count=run.sent, detail="failed")
        _log_run(warehouse, run, started_at, secrets)
        error = SyncError(f"{config.name}: {run.message}")
        error.run = run
        # not chained: the cause's text (an HTTP library's, naming the URL) would be printed
        # with a traceback; the redacted message names its type
        raise error from None
    if run.failed:
        # every record rejected is a failure; some of them, a partial run
        run.status = "failed" if run.sent == 0 else "partial"
        examples = "; ".join(f"{key}: {reason}" for key, reason in run.rejections.items())
        run.message = (
            f"{run.failed} records rejected (e.g. {examples}); they stay pending, see "
            f"{STATE_SCHEMA}.rejections"
        )
    else:
        run.status = "success"
    run.seconds = time.perf_counter() - started
    sending.done(count=run.sent, detail=run.status)
    _log_run(warehouse, run, started_at, secrets)
    return run


# --- destinations -----------------------------------------------------------------------------


def _http_session(token: str | None) -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=8,
        connect=2,
        backoff_factor=0.2,
        backoff_max=10,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # the calls are idempotent: adds and removes are set operations
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


class AudienceApi:
    """Marketing-audience lists over HTTP JSON: one list per segment, batch add and remove.

    POST {url}/lists/{list}/members/add|remove with {"members": [fields...]}; the answer
    lists the members it refused: {"rejected": [{"email": ..., "reason": ...}]}. Mirror
    semantics: only members this project added (its state) are ever removed.
    """

    def __init__(self, config: DestinationConfig) -> None:
        url = config.env("url_env")
        if not url:
            raise SyncError(f"{config.name}: set {config.options.get('url_env')} to the API URL")
        # a query string (`?api_key=...`) goes with every call, after the endpoint's path
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(path=parts.path.rstrip("/"), query=""))
        self.params = parse_qsl(parts.query, keep_blank_values=True)
        self.session = _http_session(config.env("token_env"))

    def send(self, changes: Sequence[Change]) -> Delivery:
        action = "remove" if changes[0].op == "remove" else "add"
        members = [c.fields for c in changes]
        response = self.session.post(
            f"{self.url}/lists/{changes[0].audience_key}/members/{action}",
            json={"members": members},
            params=self.params,
            timeout=30,
        )
        if response.status_code >= 400:
            raise SyncError(f"HTTP {response.status_code}: {response.text[:300]}")
        refused = {
            item["email"]: item.get("reason", "rejected")
            for item in response.json().get("rejected", [])
        }
        delivery = Delivery()
        for change in changes:
            reason = refused.get(change.fields.get("email"))
            if reason:
                delivery.rejected[change.record_key] = reason
            else:
                delivery.acked.append(change.record_key)
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.session.close()


class Webhook:
    """Lead-routing notifications: one POST per record, with an Idempotency-Key header."""

    def __init__(self, config: DestinationConfig) -> None:
        url = config.env("url_env")
        if not url:
            raise SyncError(f"{config.name}: set {config.options.get('url_env')} to the URL")
        self.url = url
        self.session = _http_session(config.env("token_env"))

    def send(self, changes: Sequence[Change]) -> Delivery:
        delivery = Delivery()
        for change in changes:
            response = self.session.post(
                self.url,
                json={"event": "lead_routed", **change.fields},
                headers={"Idempotency-Key": change.record_key},
                timeout=30,
            )
            if response.status_code < 300:
                delivery.acked.append(change.record_key)
            elif 400 <= response.status_code < 500:
                delivery.rejected[change.record_key] = f"HTTP {response.status_code}"
            else:
                raise SyncError(f"HTTP {response.status_code}: {response.text[:300]}")
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.session.close()


#: How each ad platform wants an email before hashing. All trim and lower-case; Google also
#: drops the dots of a gmail.com / googlemail.com local part. None asks for plus tags to go.
AD_PLATFORMS: dict[str, dict[str, bool]] = {
    "meta": {"gmail_dots": False, "plus_tags": False},
    "google": {"gmail_dots": True, "plus_tags": False},
    "tiktok": {"gmail_dots": False, "plus_tags": False},
    "linkedin": {"gmail_dots": False, "plus_tags": False},
}
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalize_email(email: str, platform: str) -> str:
    """The email as `platform` wants it before hashing."""
    rules = AD_PLATFORMS[platform]
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    if rules["plus_tags"]:
        local = local.split("+", 1)[0]
    if rules["gmail_dots"] and domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def hashed_email(email: str, platform: str) -> str:
    return hashlib.sha256(normalize_email(email, platform).encode("utf-8")).hexdigest()


class AdFiles:
    """Hashed ad-audience files: <dir>/<platform>/<audience>.csv, one per audience and
    platform, rewritten (atomically) when the audience changed, from the delivered state."""

    def __init__(self, config: DestinationConfig) -> None:
        self.directory = Path(config.env("directory_env") or output_dir() / "ad_audiences")
        self.platforms = list(config.options.get("platforms") or ["meta"])
        unknown = [p for p in self.platforms if p not in AD_PLATFORMS]
        if unknown:
            raise SyncError(f"{config.name}: unknown ad platform(s) {unknown}")
        self.touched: set[str] = set()

    def send(self, changes: Sequence[Change]) -> Delivery:
        self.touched.update(c.audience_key for c in changes)
        return Delivery(acked=[c.record_key for c in changes])

    def finish(self, state: StateReader) -> None:
        for audience in sorted(self.touched):
            emails = [p["email"] for p in state.payloads(audience) if p.get("email")]
            for platform in self.platforms:
                folder = self.directory / platform
                folder.mkdir(parents=True, exist_ok=True)
                hashes = sorted({hashed_email(e, platform) for e in emails})
                part = folder / f".{audience}.csv.part"
                with part.open("w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["email_sha256"])
                    writer.writerows([h] for h in hashes)
                part.replace(folder / f"{audience}.csv")

    def close(self) -> None:
        pass


class CrmPostgres:
    """The CRM, standing in as a PostgreSQL database: audience fields upserted onto its
    contacts (table crm_contacts, keyed by contact_id). A record the CRM refuses (a
    constraint) is rejected alone; the rest of its batch goes through."""

    TABLE = "crm_contacts"

    def __init__(self, config: DestinationConfig) -> None:
        import psycopg2

        database = config.env("database_env")
        if not database:
            raise SyncError(
                f"{config.name}: set {config.options.get('database_env')} to the CRM database"
            )
        self.fields = list(config.fields)
        if "contact_id" not in self.fields:
            raise SyncError(f"{config.name}: fields must map contact_id (the CRM's key)")
        self.con = psycopg2.connect(**postgres_params(database))
        ensure_crm_schema(self.con)

    def _upsert(self, cur: Any, change: Change) -> None:
        if change.op == "remove":
            # the contact left the export: clear the audience fields, keep the CRM's own
            cleared = [f for f in self.fields if f.startswith("audience_")]
            sets = ", ".join(f"{quote_ident(f)} = null" for f in cleared)
            cur.execute(
                f"update {self.TABLE} set {sets}, audience_synced_at = now() where contact_id = %s",
                (change.fields["contact_id"],),
            )
            return
        columns = ", ".join(quote_ident(f) for f in self.fields)
        updates = ", ".join(
            f"{quote_ident(f)} = excluded.{quote_ident(f)}" for f in self.fields if f != "email"
        )
        cur.execute(
            f"insert into {self.TABLE} ({columns}, audience_synced_at) "
            f"values ({', '.join(['%s'] * len(self.fields))}, now()) "
            f"on conflict (contact_id) do update set {updates}, audience_synced_at = now()",
            [change.fields.get(f) for f in self.fields],
        )

    def send(self, changes: Sequence[Change]) -> Delivery:
        import psycopg2

        delivery = Delivery()
        with self.con.cursor() as cur:
            for change in changes:
                cur.execute("savepoint one_record")
                try:
                    self._upsert(cur, change)
                except psycopg2.DataError as exc:
                    cur.execute("rollback to savepoint one_record")
                    delivery.rejected[change.record_key] = str(exc).strip().splitlines()[0]
                except psycopg2.IntegrityError as exc:
                    cur.execute("rollback to savepoint one_record")
                    delivery.rejected[change.record_key] = str(exc).strip().splitlines()[0]
                else:
                    delivery.acked.append(change.record_key)
        self.con.commit()
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.con.close()


def ensure_crm_schema(con: Any) -> None:
    """The stand-in CRM's contacts: the CRM's own fields and the audience fields we write."""
    with con.cursor() as cur:
        cur.execute(
            f"""create table if not exists {CrmPostgres.TABLE} (
                contact_id text primary key,
                email text check (email is null or email like '%_@_%'),
                owner_id text,
                persona text,
                lifecycle_stage text,
                updated_at timestamp,  -- the CRM's own last edit; the sync never sets it
                audience_lead_score double precision
                    check (audience_lead_score between 0 and 100),
                audience_primary_segment text,
                audience_segments text,
                audience_recency_bucket text,
                audience_routing_status text,
                audience_routed_owner_id text,
                audience_synced_at timestamp
            )"""
        )
    con.commit()


#: Fields the CRM owns and the warehouse reads back (segment inheritance works both ways).
CRM_OWNED_FIELDS = ("owner_id", "persona", "lifecycle_stage")
RAW_CRM_COLUMNS = RAW_TABLES["crm_contacts"].columns


@dataclass
class CrmPull:
    pulled: int
    written: int
    watermark: str | None


def pull_crm_changes(warehouse: Warehouse, config: DestinationConfig) -> CrmPull:
    """Bring CRM-side edits (owner, persona, lifecycle stage) back into raw.crm_contacts.

    Each contact the CRM edited since the last pull becomes a new raw row: its latest raw
    row with the CRM's values and edit time, so staging's latest-update-wins picks it up at
    the next build. Contacts the warehouse never exported are left to the CRM export.
    """
    import psycopg2

    database = config.env("database_env")
    if not database:
        raise SyncError(f"{config.name}: set {config.options.get('database_env')} to pull")
    ensure_state(warehouse)
    last = warehouse.query(
        f"select max(watermark) from {STATE_SCHEMA}.crm_pulls where destination = ?",
        (config.name,),
    )[0][0]
    con = psycopg2.connect(**postgres_params(database))
    try:
        ensure_crm_schema(con)
        with con.cursor() as cur:
            cur.execute(
                f"select contact_id, {', '.join(CRM_OWNED_FIELDS)}, updated_at "
                f"from {CrmPostgres.TABLE} where updated_at is not null"
                + (" and updated_at > %s" if last else "")
                + " order by updated_at",
                (last,) if last else None,
            )
            edits = cur.fetchall()
    finally:
        con.close()
    if not edits:
        return CrmPull(0, 0, str(last) if last else None)

    scratch = pa.table(
        {
            "contact_id": [e[0] for e in edits],
            **{f: [e[i + 1] for e in edits] for i, f in enumerate(CRM_OWNED_FIELDS)},
            "updated_at": [e[-1].isoformat(sep=" ") for e in edits],
        }
    )
    warehouse.execute(
        f"create table if not exists {STATE_SCHEMA}.crm_pulled (contact_id varchar, "
        + ", ".join(f"{f} varchar" for f in CRM_OWNED_FIELDS)
        + ", updated_at varchar)"
    )
    source_file = f"crm-sync:{config.name}:{uuid.uuid4().hex[:12]}"
    kept = [c for c in RAW_CRM_COLUMNS if c not in (*CRM_OWNED_FIELDS, "updated_at")]
    latest = (
        f"select {', '.join(kept)}, contact_id as latest_id, row_number() over ("
        "partition by contact_id order by updated_at desc, _loaded_at desc) as recency "
        "from raw.crm_contacts"
    )
    warehouse.begin()
    try:
        warehouse.execute(f"delete from {STATE_SCHEMA}.crm_pulled")
        warehouse.insert_arrow(STATE_SCHEMA, "crm_pulled", scratch)
        before = warehouse.query("select count(*) from raw.crm_contacts")[0][0]
        selected = ", ".join(f"latest.{c}" if c in kept else f"pulled.{c}" for c in RAW_CRM_COLUMNS)
        warehouse.execute(
            f"insert into raw.crm_contacts ({', '.join(RAW_CRM_COLUMNS)}, "
            "_source_file, _source_row_number, _loaded_at) "
            f"select {selected}, ?, "
            "cast(row_number() over (order by pulled.contact_id) as bigint), "
            "cast(? as timestamp) "
            f"from {STATE_SCHEMA}.crm_pulled as pulled "
            f"inner join ({latest}) as latest on latest.latest_id = pulled.contact_id "
            "and latest.recency = 1",
            (source_file, _now()),
        )
        written = warehouse.query("select count(*) from raw.crm_contacts")[0][0] - before
        watermark = max(e[-1] for e in edits)
        warehouse.execute(
            f"insert into {STATE_SCHEMA}.crm_pulls values (?, ?, ?, ?)",
            (config.name, watermark, len(edits), _now()),
        )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise
    return CrmPull(len(edits), written, watermark.isoformat(sep=" "))


def open_destination(config: DestinationConfig) -> Destination:
    kinds: dict[str, Any] = {
        "crm_postgres": CrmPostgres,
        "audience_api": AudienceApi,
        "ad_files": AdFiles,
        "webhook": Webhook,
    }
    return kinds[config.kind](config)


def missing_settings(config: DestinationConfig) -> list[str]:
    """The environment variables a destination needs and does not have."""
    required = {
        "crm_postgres": ["database_env"],
        "audience_api": ["url_env"],
        "webhook": ["url_env"],
    }
    return [
        config.options[key]
        for key in required.get(config.kind, [])
        if key in config.options and not os.environ.get(config.options[key])
    ]


def run_syncs(
    warehouse: Warehouse,
    names: Sequence[str] | None = None,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    force: bool = False,
    skip_unconfigured: bool = False,
    progress: Reporter = SILENT,
) -> list[SyncRun]:
    """Run the named destinations (default: all) on the latest build, one after another;
    `progress` hears of the records each sends.

    Every destination runs: one that fails or is refused is a SyncRun of that status (with
    the reason in its message) and the next one runs. The caller decides what the statuses
    mean for it (`SyncRun.ok`). Only an unknown destination name, or no build at all, raises.
    """
    configs = load_config()
    unknown = [n for n in names or [] if n not in configs]
    if unknown:
        raise SyncError(f"unknown destination(s) {unknown}; syncs.yml has {sorted(configs)}")
    as_of = as_of or latest_build_as_of(warehouse)
    secrets = all_secrets({n: configs[n] for n in names or list(configs)})
    runs = []
    with redacting_logs(secrets):
        for name in names or list(configs):
            config = configs[name]
            missing = missing_settings(config)
            if missing and skip_unconfigured and not dry_run:
                log.info("%s: not configured (%s)", name, ", ".join(missing))
                skipped = SyncRun(
                    "-", name, as_of.strftime(AS_OF_FORMAT), dry_run, status="skipped"
                )
                skipped.message = f"not configured: set {', '.join(missing)}"
                skipped.unconfigured = True
                runs.append(skipped)
                continue
            runs.append(
                _run_one(
                    warehouse, config, as_of=as_of, dry_run=dry_run, force=force, progress=progress
                )
            )
    return runs


def _run_one(
    warehouse: Warehouse,
    config: DestinationConfig,
    *,
    as_of: datetime,
    dry_run: bool,
    force: bool,
    progress: Reporter,
) -> SyncRun:
    """One destination of `run_syncs`: its SyncRun whatever happened (but a kill)."""
    started_at = _now()
    started = time.perf_counter()
    try:
        destination = None if dry_run else open_destination(config)
    except Exception as exc:
        run = SyncRun(uuid.uuid4().hex[:16], config.name, as_of.strftime(AS_OF_FORMAT), dry_run)
        run.status, run.retryable = "failed", not isinstance(exc, SyncError)
        reason = str(exc).removeprefix(config.name + ": ")
        run.message = redact(f"could not open the destination: {reason}", config.secrets())
        run.seconds = time.perf_counter() - started
        ensure_state(warehouse)
        _insert_run(warehouse, run, started_at, finished=_now())
        # info: the caller prints (or logs) each run's line, with the reason
        log.info("%s: %s", config.name, run.message)
        return run
    try:
        return sync_destination(
            warehouse,
            config,
            destination,
            as_of=as_of,
            dry_run=dry_run,
            force=force,
            progress=progress,
        )
    except SyncError as exc:
        if exc.run is None:  # pragma: no cover - sync_destination attaches its run
            raise
        log.info("%s", exc)
        return exc.run
    except Exception as exc:  # the state could not be read or written: still the next one
        log.exception("%s: the sync could not run", config.name)
        run = SyncRun(uuid.uuid4().hex[:16], config.name, as_of.strftime(AS_OF_FORMAT), dry_run)
        run.status, run.retryable = "failed", True
        run.message = redact(
            f"the sync could not run: {type(exc).__name__}: {exc}", config.secrets()
        )
        run.seconds = time.perf_counter() - started
        return run
    finally:
        if destination is not None:
            destination.close()
