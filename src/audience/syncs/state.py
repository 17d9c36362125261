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
from audience.syncs.changes import Change
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
