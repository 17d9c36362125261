"""What a run sends: the changes (add, change, remove by record key) computed in the
warehouse against what the destination last acknowledged, and the shape of a destination's
answer. The diff is SQL so that unchanged data costs one query and sends nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from audience import consent
from audience.syncs.config import EXPORT_SCHEMA, STATE_SCHEMA, DestinationConfig
from audience.warehouse import Warehouse, quote_ident

if TYPE_CHECKING:
    from collections.abc import Sequence

    from audience.syncs.state import StateReader


@dataclass
class Change:
    op: str  # add | change | remove
    record_key: str
    audience_key: str
    payload_hash: str | None
    fields: dict[str, Any]  # destination field -> value (for a remove: as last delivered)
    #: sent as the Idempotency-Key header by the destinations that key their requests; set
    #: (and recorded in sync_state.in_flight) by the run before the request goes out
    idempotency_key: str | None = None


@dataclass(frozen=True)
class WrittenFile:
    """A file a file destination wrote and renamed to its final name: the state names it in
    the same transaction that records its records as delivered."""

    audience_key: str
    platform: str
    as_of: datetime
    sequence: int
    file_name: str
    records: int
    sha256: str


@dataclass
class Delivery:
    """A destination's answer to one batch: what it took, and what it refused and why."""

    acked: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    #: the files written for the acknowledged records (file destinations)
    files: list[WrittenFile] = field(default_factory=list)


@dataclass(frozen=True)
class RunContext:
    """What a destination may need to know of the run before it sends: the state (what it
    holds), the build's as_of and the run."""

    state: StateReader
    as_of: datetime
    run_id: str


class Destination(Protocol):
    """A destination kind. Besides these methods a kind may declare, as class attributes:

    - `idempotency` = "record" (one key per record) or "batch" (one key per request): the run
      gives each change its key and records it in flight before `send`, so a rerun after a
      crash re-sends exactly that request with that key (the receiver answers a key it has
      seen with its first answer, without processing it again);
    - `acks_each_record` = True and a method `send_each(changes)` yielding `(change, None)`
      for each record the destination took and `(change, reason)` for each it refused, as
      they happen: the run records each one as delivered right after its answer, so a
      failure midway re-sends nothing acknowledged;
    - `whole_audiences` = True: the run hands it all changes of one audience at once (a
      file holds the whole audience), and records the `Delivery.files` it wrote;
    - a method `begin(context: RunContext)`, called once before the first send.
    """

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
        ),
        -- dead-lettered: refused max_attempts times in a row, held back while unchanged
        dead as (
            select record_key, op, payload_hash
            from {STATE_SCHEMA}.rejections
            where destination = ? and dead_lettered_at is not null
        )
        select
            case when st.record_key is null then 'add' else 'change' end as op,
            src.record_key, src.audience_key, src.payload_hash, null as payload, {wanted}
        from src left join st on src.record_key = st.record_key
        where (st.record_key is null
            {"" if config.append_only else "or st.payload_hash <> src.payload_hash"})
            and not exists (
                select 1 from dead
                where dead.record_key = src.record_key and dead.op <> 'remove'
                    and dead.payload_hash = src.payload_hash
            )
    """
    if not config.append_only:
        sql += f"""
        union all
        select 'remove' as op, st.record_key, st.audience_key, null as payload_hash,
            st.payload, {nulls}
        from st left join src on st.record_key = src.record_key
        where src.record_key is null
            and not exists (
                select 1 from dead where dead.record_key = st.record_key and dead.op = 'remove'
            )
        """
    changes = []
    for row in warehouse.query(sql, (config.name, config.name)):
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
