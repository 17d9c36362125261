"""The CRM, standing in as a PostgreSQL database: audience fields upserted onto its contacts,
and the CRM's own edits pulled back into raw.crm_contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from audience.contract import RAW_TABLES
from audience.syncs.changes import Change, Delivery
from audience.syncs.config import STATE_SCHEMA, DestinationConfig, SyncError
from audience.syncs.state import StateReader, _now, ensure_state
from audience.warehouse import Warehouse, postgres_params, quote_ident


class CrmPostgres:
    """The CRM, standing in as a PostgreSQL database: audience fields upserted onto its
    contacts (table crm_contacts, keyed by contact_id). A record the CRM refuses (a
    constraint) is rejected alone; the rest of its batch goes through. A batch is one CRM
    transaction; an upsert whose values the contact already holds writes nothing, so a
    batch sent again after a crash between the CRM's commit and the state's applies
    nothing twice."""

    TABLE = "crm_contacts"
    #: the CRM tables a destination may write (syncs.yml `table`), by their key: contacts
    #: (audience fields upserted, cleared on remove) and tasks (created, closed on remove)
    KEYS: ClassVar[dict[str, str]] = {"crm_contacts": "contact_id", "crm_tasks": "task_id"}

    def __init__(self, config: DestinationConfig) -> None:
        import psycopg2

        database = config.env("database_env")
        if not database:
            raise SyncError(
                f"{config.name}: set {config.options.get('database_env')} to the CRM database"
            )
        self.fields = list(config.fields)
        self.table = str(config.options.get("table", self.TABLE))
        if self.table not in self.KEYS:
            raise SyncError(f"{config.name}: table must be one of {', '.join(self.KEYS)}")
        self.key = self.KEYS[self.table]
        if self.key not in self.fields:
            raise SyncError(f"{config.name}: fields must map {self.key} (the CRM's key)")
        self.con = psycopg2.connect(**postgres_params(database))
        ensure_crm_schema(self.con)

    def _upsert(self, cur: Any, change: Change) -> None:
        """Apply one change, and only if the contact does not already hold it: the upsert and
        the sync state are in two databases, so a crash after the CRM committed and before
        the state did sends the change again; applied again it would rewrite the contact
        (and its audience_synced_at, and whatever the CRM triggers on a write). A row that
        already holds the values is left alone, so each change is written once."""
        if change.op == "remove" and self.table == "crm_tasks":
            # the record no longer needs the task (verified, merged, forgotten): close it
            cur.execute(
                "update crm_tasks set status = 'done', audience_synced_at = now() "
                "where task_id = %s and status <> 'done'",
                (change.fields["task_id"],),
            )
            return
        if change.op == "remove":
            # the contact left the export: clear the audience fields, keep the CRM's own
            cleared = [f for f in self.fields if f.startswith("audience_")]
            sets = ", ".join(f"{quote_ident(f)} = null" for f in cleared)
            held = ", ".join(quote_ident(f) for f in cleared)
            cur.execute(
                f"update {self.TABLE} set {sets}, audience_synced_at = now() "
                f"where contact_id = %s and ({held}, null) is distinct from "
                f"({', '.join('null' for _ in cleared)}, null)",
                (change.fields["contact_id"],),
            )
            return
        columns = ", ".join(quote_ident(f) for f in self.fields)
        updated = [f for f in self.fields if f not in ("email", self.key)]
        if self.table == "crm_tasks":
            # a task is (re)opened by its record: a closed one that is stale again reopens
            updated.append("status")
            columns += ", status"
        updates = ", ".join(f"{quote_ident(f)} = excluded.{quote_ident(f)}" for f in updated)
        current = ", ".join(f"{self.table}.{quote_ident(f)}" for f in updated)
        incoming = ", ".join(f"excluded.{quote_ident(f)}" for f in updated)
        values = [change.fields.get(f) for f in self.fields]
        if self.table == "crm_tasks":
            values.append("open")
        cur.execute(
            f"insert into {self.table} ({columns}, audience_synced_at) "
            f"values ({', '.join(['%s'] * len(values))}, now()) "
            f"on conflict ({self.key}) do update set {updates}, audience_synced_at = now() "
            f"where ({current}) is distinct from ({incoming})",
            values,
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
        # tasks for the records' owners (re-verify stale firmographics): open until the
        # record leaves the export, then done
        cur.execute(
            """create table if not exists crm_tasks (
                task_id text primary key,
                contact_id text not null,
                owner_id text,
                task_type text not null,
                subject text,
                status text not null default 'open' check (status in ('open', 'done')),
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
