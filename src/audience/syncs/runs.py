"""One run of one destination, and `run_syncs` over all of them: gates, diff, safety, then
delivery with the state advancing as the destination acknowledges. Every run is a row of
sync_state.sync_runs; one destination failing never stops the others."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audience.checks import (
    QualityGateError,
    current_build,
    latest_build_as_of,
    require_passing_checks,
)
from audience.dbt import AS_OF_FORMAT
from audience.progress import SILENT, Reporter
from audience.redaction import redact, redacting_logs
from audience.syncs.changes import Change, Delivery, Destination, RunContext, diff
from audience.syncs.config import (
    STATE_SCHEMA,
    DestinationConfig,
    SyncError,
    SyncRefused,
    all_secrets,
    load_config,
)
from audience.syncs.destinations import AdFiles, AudienceApi, CrmPostgres, SequenceApi, Webhook
from audience.syncs.safety import check_safety
from audience.syncs.state import (
    _SYNC_RUNS_COLUMNS,
    StateReader,
    _now,
    advance_state,
    clear_in_flight,
    dead_letters,
    ensure_state,
    in_flight,
    mark_in_flight,
    record_rejections,
)
from audience.warehouse import Warehouse

log = logging.getLogger("audience.syncs")


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
    #: rejected records that reached max_attempts in this run: no longer retried
    dead_lettered: int = 0
    #: dead-lettered records of earlier runs the diff held back
    held_back: int = 0
    #: skipped because a setting it needs is not in the environment
    unconfigured: bool = False
    #: failed on the way to the destination (a retry may get through), not refused or rejected
    retryable: bool = False
    #: earlier runs of this destination found `running` (killed) and marked interrupted
    interrupted: list[str] = field(default_factory=list)
    #: records an earlier run left in flight (sent, answer never seen), re-sent with their
    #: Idempotency-Key before the run's own changes
    resumed: int = 0

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
        if self.resumed:
            text += f" ({self.resumed} records left in flight re-sent with their keys)"
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
        run.held_back = dead_letters(warehouse, config.name)
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
    sending = progress.task("sync", config.name, total=len(changes), unit="records")
    try:
        _deliver(warehouse, config, destination, run, changes, as_of=as_of, sending=sending)
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
        if run.dead_lettered:
            run.message += (
                f"; {run.dead_lettered} of them refused {config.max_attempts} times in a row "
                "are dead-lettered: held back until their data changes (dead_lettered_at)"
            )
    else:
        run.status = "success"
    if run.held_back:
        run.message = "; ".join(
            m
            for m in (
                run.message,
                f"{run.held_back} dead-lettered records held back (see {STATE_SCHEMA}."
                "rejections where dead_lettered_at is not null; delete a row to retry it)",
            )
            if m
        )
    run.seconds = time.perf_counter() - started
    sending.done(count=run.sent, detail=run.status)
    _log_run(warehouse, run, started_at, secrets)
    return run


_COUNTERS = {"add": "added", "change": "changed", "remove": "removed"}


def record_idempotency_key(destination: str, record_key: str, payload_hash: str | None) -> str:
    """The Idempotency-Key of one record's request: the same for the same record and payload
    whichever run sends it (sha256 hex of destination, record key and payload fingerprint)."""
    text = "\x1f".join((destination, record_key, payload_hash or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def batch_idempotency_key(destination: str, run_id: str, batch: Sequence[Change]) -> str:
    """The Idempotency-Key of one batch request. It names the run too: the same members may
    rightly be added again after a later removal, and a receiver would answer a repeated key
    without adding them. A rerun does not derive it again: it reads it from the in-flight
    state, with the batch as it was sent."""
    members = "\x1e".join(sorted(f"{c.record_key}\x1f{c.payload_hash or ''}" for c in batch))
    text = "\x1f".join((destination, run_id, batch[0].audience_key, batch[0].op, members))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _audience_batches(changes: Sequence[Change]) -> Iterator[list[Change]]:
    """All changes of one audience together (they come sorted by audience)."""
    current: list[Change] = []
    for change in changes:
        if current and change.audience_key != current[0].audience_key:
            yield current
            current = []
        current.append(change)
    if current:
        yield current


def _deliver(
    warehouse: Warehouse,
    config: DestinationConfig,
    destination: Destination,
    run: SyncRun,
    changes: Sequence[Change],
    *,
    as_of: datetime,
    sending: Any,
) -> None:
    """Send the changes, recording each acknowledgement as it comes.

    Requests an earlier run left in flight go first, as they were sent and with their keys,
    so that a receiver honouring Idempotency-Key takes each exactly once; their records'
    newer changes, if any, are the next run's. Keyed requests are recorded in flight before
    they are sent; a destination that answers record by record (`send_each`) has each record
    recorded as delivered right after its answer; one that writes whole audiences has the
    files it wrote named in the same transaction as their records.
    """
    idempotency = getattr(destination, "idempotency", None)
    resumed = in_flight(warehouse, config) if idempotency else []
    again = {c.record_key for group in resumed for c in group}
    fresh = [c for c in changes if c.record_key not in again]
    run.resumed = len(again)
    begin = getattr(destination, "begin", None)
    if begin is not None:
        begin(RunContext(StateReader(warehouse, config.name), as_of, run.run_id))
    if getattr(destination, "whole_audiences", False):
        batches: Iterator[list[Change]] = _audience_batches(fresh)
    else:
        batches = _batches(fresh, config.batch_size)
    units = itertools.chain(((g, True) for g in resumed), ((b, False) for b in batches))
    for batch, resent in units:
        if idempotency and not resent:
            shared = (
                batch_idempotency_key(config.name, run.run_id, batch)
                if idempotency == "batch"
                else None
            )
            for change in batch:
                change.idempotency_key = shared or record_idempotency_key(
                    config.name, change.record_key, change.payload_hash
                )
            mark_in_flight(warehouse, config, run.run_id, batch)
        if getattr(destination, "acks_each_record", False):
            for change, reason in destination.send_each(batch):  # type: ignore[attr-defined]
                outcome = (
                    Delivery(acked=[change.record_key])
                    if reason is None
                    else Delivery(rejected={change.record_key: reason})
                )
                _settle(warehouse, config, run, [change], outcome, keyed=bool(idempotency))
                sending.advance(1)
        else:
            delivery = destination.send(batch)
            _settle(warehouse, config, run, batch, delivery, keyed=bool(idempotency))
            sending.advance(len(batch))
    destination.finish(StateReader(warehouse, config.name))


def _settle(
    warehouse: Warehouse,
    config: DestinationConfig,
    run: SyncRun,
    batch: Sequence[Change],
    delivery: Delivery,
    *,
    keyed: bool,
) -> None:
    """Record a destination's answer: the acknowledged as delivered (with the files written
    for them), the refused with their reasons (pending, retried next run)."""
    acked = set(delivery.acked)
    done = [c for c in batch if c.record_key in acked]
    advance_state(warehouse, config, run.run_id, done, delivery.files)
    for change in done:
        setattr(run, _COUNTERS[change.op], getattr(run, _COUNTERS[change.op]) + 1)
    refused = {
        c.record_key: (c.op, delivery.rejected[c.record_key], c.payload_hash)
        for c in batch
        if c.record_key in delivery.rejected
    }
    run.dead_lettered += len(record_rejections(warehouse, config, run.run_id, refused))
    if keyed and refused:
        clear_in_flight(warehouse, config, list(refused))
    run.failed += len(refused)
    for key, (_, reason, _) in refused.items():
        if len(run.rejections) < 5:
            run.rejections[key] = reason


def open_destination(config: DestinationConfig) -> Destination:
    kinds: dict[str, Any] = {
        "crm_postgres": CrmPostgres,
        "audience_api": AudienceApi,
        "ad_files": AdFiles,
        "webhook": Webhook,
        "sequence_api": SequenceApi,
    }
    return kinds[config.kind](config)


def missing_settings(config: DestinationConfig) -> list[str]:
    """The environment variables a destination needs and does not have."""
    required = {
        "crm_postgres": ["database_env"],
        "audience_api": ["url_env"],
        "webhook": ["url_env"],
        "sequence_api": ["url_env"],
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
