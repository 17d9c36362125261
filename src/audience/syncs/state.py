"""The delivery state in the warehouse (schema sync_state): what each destination
acknowledged, what it rejected and why. It lives next to the exports so that the diff is one
query, and it advances in transactions so that a failed run keeps what was acknowledged."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from audience.project import project_dir
from audience.redaction import redact
from audience.syncs.changes import Change, WrittenFile
from audience.syncs.config import STATE_SCHEMA, DestinationConfig
from audience.warehouse import Warehouse

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
        return list(self.records(audience_key).values())

    def records(self, audience_key: str) -> dict[str, dict[str, Any]]:
        """The fields last delivered of each record of the audience, by record key."""
        rows = self.warehouse.query(
            f"select record_key, payload from {STATE_SCHEMA}.delivered "
            "where destination = ? and audience_key = ? order by record_key",
            (self.destination, audience_key),
        )
        return {key: json.loads(payload) for key, payload in rows}

    def files_written(self, audience_key: str, platform: str, as_of: datetime) -> int:
        """How many files of the audience and platform the state names for this as_of: the
        next file's sequence number is one more, whichever run writes it, so a rerun after a
        crash before the state named a file writes that same name again."""
        rows = self.warehouse.query(
            f"select count(*) from {STATE_SCHEMA}.files where destination = ? "
            "and audience_key = ? and platform = ? and as_of = ?",
            (self.destination, audience_key, platform, as_of),
        )
        return int(rows[0][0])

    def current_files(self) -> dict[tuple[str, str], str]:
        """The newest file the state names per (audience, platform): the one that holds the
        audience as delivered."""
        rows = self.warehouse.query(
            f"select audience_key, platform, file_name from {STATE_SCHEMA}.files "
            "where destination = ? order by audience_key, platform, as_of, sequence",
            (self.destination,),
        )
        return {(audience, platform): name for audience, platform, name in rows}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


#: up to this many records a batch is recorded with plain statements; more go through a
#: scratch table loaded with Arrow (a record acknowledged alone, as the webhook's are, would
#: otherwise pay for the scratch table every time)
SMALL_BATCH = 20


def advance_state(
    warehouse: Warehouse,
    config: DestinationConfig,
    run_id: str,
    done: Sequence[Change],
    files: Sequence[WrittenFile] = (),
) -> None:
    """Record acknowledged changes, and the files written for them, in one transaction: the
    state never names a delivery that did not happen, nor misses one that did. Their
    in-flight rows go in the same transaction."""
    if not done and not files:
        return
    now = _now()
    rows = [
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
    ]
    scratch = f"pending_{config.name}"
    if len(rows) > SMALL_BATCH:
        warehouse.execute(
            f"create table if not exists {STATE_SCHEMA}.{scratch} ("
            "destination varchar, record_key varchar, op varchar, audience_key varchar, "
            "payload_hash varchar, payload varchar, delivered_at timestamp, run_id varchar)"
        )
        keys = f"(select record_key from {STATE_SCHEMA}.{scratch})"
        key_params: tuple[Any, ...] = ()
    else:
        keys = f"({', '.join('?' for _ in rows) or 'null'})"
        key_params = tuple(r["record_key"] for r in rows)
    warehouse.begin()
    try:
        if len(rows) > SMALL_BATCH:
            warehouse.execute(f"delete from {STATE_SCHEMA}.{scratch}")
            warehouse.insert_arrow(
                STATE_SCHEMA, scratch, pa.Table.from_pylist(rows, schema=_BATCH_SCHEMA)
            )
        if rows:
            for table in ("delivered", "rejections", "in_flight"):
                warehouse.execute(
                    f"delete from {STATE_SCHEMA}.{table} where destination = ? "
                    f"and record_key in {keys}",
                    (config.name, *key_params),
                )
        if len(rows) > SMALL_BATCH:
            warehouse.execute(
                f"insert into {STATE_SCHEMA}.delivered select destination, record_key, "
                "audience_key, payload_hash, payload, delivered_at, run_id "
                f"from {STATE_SCHEMA}.{scratch} where op <> 'remove'"
            )
        else:
            kept = [r for r in rows if r["op"] != "remove"]
            if kept:
                columns = [c for c in _BATCH_SCHEMA.names if c != "op"]
                warehouse.execute(
                    f"insert into {STATE_SCHEMA}.delivered ({', '.join(columns)}) values "
                    + ", ".join(f"({', '.join('?' for _ in columns)})" for _ in kept),
                    tuple(r[c] for r in kept for c in columns),
                )
        for written in files:
            warehouse.execute(
                f"insert into {STATE_SCHEMA}.files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    config.name,
                    written.audience_key,
                    written.platform,
                    written.as_of,
                    written.sequence,
                    written.file_name,
                    written.records,
                    written.sha256,
                    run_id,
                    now,
                ),
            )
        warehouse.commit()
    except BaseException:  # a KeyboardInterrupt too: the connection must not stay in it
        warehouse.rollback()
        raise


def record_rejections(
    warehouse: Warehouse,
    config: DestinationConfig,
    run_id: str,
    rejected: dict[str, tuple[str, str, str | None]],
) -> list[str]:
    """Keep each refused record (key -> op, reason, payload hash) with its reason and the
    number of times in a row the destination refused that payload; it stays pending and is
    retried next run, until `max_attempts`: then it is dead-lettered, held back from the
    diff until its payload changes (or the row is deleted). Returns the dead-lettered keys."""
    if not rejected:
        return []
    now = _now()
    secrets = config.secrets()
    dead: list[str] = []
    for key, (op, reason, payload_hash) in rejected.items():
        before = warehouse.query(
            f"select op, payload_hash, attempts from {STATE_SCHEMA}.rejections "
            "where destination = ? and record_key = ?",
            (config.name, key),
        )
        same = bool(before) and (before[0][0], before[0][1]) == (op, payload_hash)
        attempts = (int(before[0][2] or 1) + 1) if same else 1
        dead_at = now if attempts >= config.max_attempts else None
        if dead_at is not None:
            dead.append(key)
        warehouse.execute(
            f"delete from {STATE_SCHEMA}.rejections where destination = ? and record_key = ?",
            (config.name, key),
        )
        warehouse.execute(
            f"insert into {STATE_SCHEMA}.rejections (destination, record_key, op, reason, "
            "run_id, rejected_at, payload_hash, attempts, dead_lettered_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                config.name,
                key,
                op,
                redact(reason, secrets)[:1000],
                run_id,
                now,
                payload_hash,
                attempts,
                dead_at,
            ),
        )
    return dead


def dead_letters(warehouse: Warehouse, destination: str) -> int:
    """How many records of the destination are dead-lettered (held back)."""
    rows = warehouse.query(
        f"select count(*) from {STATE_SCHEMA}.rejections "
        "where destination = ? and dead_lettered_at is not null",
        (destination,),
    )
    return int(rows[0][0])


# --- requests in flight -----------------------------------------------------------------------

_IN_FLIGHT_SCHEMA = pa.schema(
    [
        ("destination", pa.string()),
        ("record_key", pa.string()),
        ("idempotency_key", pa.string()),
        ("op", pa.string()),
        ("audience_key", pa.string()),
        ("payload_hash", pa.string()),
        ("payload", pa.string()),
        ("run_id", pa.string()),
        ("marked_at", pa.timestamp("us")),
    ]
)


def mark_in_flight(
    warehouse: Warehouse, config: DestinationConfig, run_id: str, batch: Sequence[Change]
) -> None:
    """Record the changes about to be sent, with their idempotency keys, before they go out
    (one transaction). A crash after this leaves them here: the next run re-sends them as
    they were, with the same keys, and a receiver that honours Idempotency-Key takes each
    once whether or not the first request reached it."""
    keyed = [c for c in batch if c.idempotency_key]
    if not keyed:
        return
    now = _now()
    rows = [
        {
            "destination": config.name,
            "record_key": c.record_key,
            "idempotency_key": c.idempotency_key,
            "op": c.op,
            "audience_key": c.audience_key,
            "payload_hash": c.payload_hash,
            "payload": json.dumps(c.fields, sort_keys=True, default=str),
            "run_id": run_id,
            "marked_at": now,
        }
        for c in keyed
    ]
    # no record of the batch is in flight already: the run re-sends those first, as they
    # were, and leaves them out of its own batches (the primary key would refuse it)
    warehouse.begin()
    try:
        if len(rows) > SMALL_BATCH:
            table = pa.Table.from_pylist(rows, schema=_IN_FLIGHT_SCHEMA)
            warehouse.insert_arrow(STATE_SCHEMA, "in_flight", table)
        else:
            columns = _IN_FLIGHT_SCHEMA.names
            warehouse.execute(
                f"insert into {STATE_SCHEMA}.in_flight ({', '.join(columns)}) values "
                + ", ".join(f"({', '.join('?' for _ in columns)})" for _ in rows),
                tuple(r[c] for r in rows for c in columns),
            )
        warehouse.commit()
    except BaseException:
        warehouse.rollback()
        raise


def in_flight(warehouse: Warehouse, config: DestinationConfig) -> list[list[Change]]:
    """The requests an earlier run sent (or was about to send) and never saw answered, each
    as its changes with their key, as they were sent: one list per key, in the order they
    were marked."""
    rows = warehouse.query(
        f"select idempotency_key, op, record_key, audience_key, payload_hash, payload "
        f"from {STATE_SCHEMA}.in_flight where destination = ? "
        "order by marked_at, idempotency_key, record_key",
        (config.name,),
    )
    groups: dict[str, list[Change]] = {}
    for key, op, record_key, audience, fingerprint, payload in rows:
        change = Change(op, record_key, audience, fingerprint, json.loads(payload), key)
        groups.setdefault(key, []).append(change)
    return list(groups.values())


def clear_in_flight(warehouse: Warehouse, config: DestinationConfig, keys: Sequence[str]) -> None:
    """Forget records in flight that were answered with a refusal (they stay pending, and a
    later run sends them under a fresh mark)."""
    for key in keys:
        warehouse.execute(
            f"delete from {STATE_SCHEMA}.in_flight where destination = ? and record_key = ?",
            (config.name, key),
        )
