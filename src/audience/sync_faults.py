"""Fault injection for the syncs: are records delivered exactly once, whatever fails?

For each destination kind (webhook, audience_api, ad_files, crm_postgres), each seeded run
syncs a small export in two phases (a first sync, then a later build that adds, changes and
removes records) and, in each phase, syncs again until a run succeeds, while

- the local stand-in servers (audience.devservers) fail chosen requests: before processing
  them (503, a dropped connection, 429 with Retry-After, a slow start) or after (a 502, a
  dropped connection, an answer slower than the client waits), and
- the sync is "killed" at a seeded random point: a `Killed` (a BaseException, which no
  handler of the sync catches, as none runs after a real kill) raised before or after a
  request, inside a record's webhook loop, before or after a state commit, before or after
  an ad file's rename, inside the CRM's transaction. The process's connections are then
  dropped and a new "process" runs the next attempt; and once per warehouse a real
  subprocess is SIGKILLed mid-sync.

After each phase the receiving side is counted: the stand-in's processed requests, the files
on disk and the state naming them, the CRM table and a trigger log of every write to it. A
record missing there is lost; a record processed (or written, or delivered in a file) more
than once is duplicated. `run_fault_suite` returns the figures; the test module
tests/integration/test_sync_faults.py asserts both are 0 on DuckDB and PostgreSQL, and
`audience bench-sync-faults` prints them.

The warehouse is not a dbt build: the export models, the two marts whose build ids the gate
reads, and a passing quality verdict per build are written with SQL into a scratch DuckDB
file or PostgreSQL database, shaped like the real ones (what `diff`, `check_safety` and
`require_passing_checks` read). That keeps a run to a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from audience.checks import CheckResult, CheckRun, built_relations, load_suites, record
from audience.devservers import FAULTS, ApiState, Server
from audience.project import environment
from audience.syncs import (
    STATE_SCHEMA,
    AdFiles,
    Change,
    CrmPostgres,
    Delivery,
    DestinationConfig,
    StateReader,
    SyncError,
    ensure_crm_schema,
    ensure_state,
    load_config,
    open_destination,
    sync_destination,
)
from audience.syncs.changes import _export_query, _plain
from audience.syncs.destinations.ad_files import hashed_email
from audience.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse, postgres_params

KINDS = ("webhook", "audience_api", "ad_files", "crm_postgres")
#: the destination of syncs.yml each kind is tested as (its fields and channels)
DESTINATIONS = {
    "webhook": "lead_routing",
    "audience_api": "marketing_lists",
    "ad_files": "ad_audiences",
    "crm_postgres": "crm",
}
PHASES = (
    (datetime(2026, 6, 30), "faults-build-1"),
    (datetime(2026, 7, 1), "faults-build-2"),
)
#: the environment variables the suite's destinations read (never the real ones)
ENV = {
    "url": "AUDIENCE_FAULTS_URL",
    "webhook": "AUDIENCE_FAULTS_WEBHOOK_URL",
    "directory": "AUDIENCE_FAULTS_AD_DIR",
    "crm": "AUDIENCE_FAULTS_CRM_DATABASE",
}
SEGMENTS = {"seg_a": "email", "seg_b": "any", "seg_c": "any", "seg_d": "email"}
MAX_ATTEMPTS = 60


class Killed(BaseException):
    """The sync's process dies here. A BaseException, so that no `except Exception` of the
    sync runs, as nothing of the process would after a real kill."""


# --- the scratch warehouse --------------------------------------------------------------------


def _fingerprint(*values: Any) -> str:
    return hashlib.md5("|".join(str(v) for v in values).encode()).hexdigest()


def _email(i: int) -> str:
    # some as ad platforms see them: mixed case, gmail dots
    return f"Person.{i}@GMail.com" if i % 4 == 0 else f"person{i}@example.com"


def scratch_tables(people: int, phase: int) -> dict[str, pa.Table]:
    """The marts the syncs read, as of phase 0 (first build) or 1 (the next build: members
    leave and join lists, CRM scores change, contacts leave the CRM export, new leads are
    routed). Deterministic: the same for every seed."""
    as_of, build = PHASES[phase]
    everyone = range(people + (people // 10 if phase else 0))
    members = []
    for i in everyone:
        for n, segment in enumerate(SEGMENTS):
            joined = (i + n) % (n + 2) == 0 or (segment == "seg_c" and i % 5 == 1)
            left = phase and segment == "seg_a" and i % 7 == 0
            if joined and not left:
                members.append((segment, i))
    audience = {
        "record_key": [f"{s}:{_email(i)}" for s, i in members],
        "audience_key": [s for s, _ in members],
        "segment_id": [s for s, _ in members],
        "channel": [SEGMENTS[s] for s, _ in members],
        "email": [_email(i) for _, i in members],
        "contact_key": [f"c{i:04d}" for _, i in members],
        "payload_hash": [_fingerprint(s, _email(i)) for s, i in members],
        # every scratch member is reachable: the suite is about delivery, not consent
        "email_reach": ["reachable"] * len(members),
        "ads_reach": ["reachable"] * len(members),
    }
    crm = [i for i in everyone if i % 4 != 3 and not (phase and i % 9 == 0)]

    def score(i: int) -> float:
        return round((i * 7.3) % 100 + (5.5 if phase and i % 6 == 0 else 0.0), 1) % 100

    crm_rows = {
        "record_key": [f"c{i:04d}" for i in crm],
        "audience_key": ["crm"] * len(crm),
        "contact_key": [f"c{i:04d}" for i in crm],
        "crm_contact_id": [f"crm-{i}" for i in crm],
        "email": [_email(i) for i in crm],
        "lead_score": [score(i) for i in crm],
        "primary_segment_id": [next(iter(SEGMENTS)) if i % 2 else None for i in crm],
        "segment_list": [",".join(s for s, j in members if j == i) for i in crm],
        "recency_bucket": ["0-7d" if i % 3 else "8-30d" for i in crm],
        "routing_status": ["routed" if i % 3 == 0 else "not_routed" for i in crm],
        "routed_to_owner_id": [f"owner-{i % 4}" if i % 3 == 0 else None for i in crm],
        "crm_reach": ["reachable"] * len(crm),
    }
    crm_rows["payload_hash"] = [
        _fingerprint(*(crm_rows[c][n] for c in list(crm_rows)[3:])) for n in range(len(crm))
    ]
    entered = [(i, 0) for i in everyone if i % 3 == 0]
    if phase:  # append-only: the earlier entries stay, new ones come
        entered += [(i, 1) for i in everyone if i % 4 == 1]
    leads = {
        "record_key": [f"c{i:04d}@{p}" for i, p in entered],
        "audience_key": ["mql_routed"] * len(entered),
        "contact_key": [f"c{i:04d}" for i, _ in entered],
        "email": [_email(i) for i, _ in entered],
        "crm_contact_id": [f"crm-{i}" for i, _ in entered],
        "owner_id": [f"owner-{i % 4}" for i, _ in entered],
        "lead_score": [round((i * 3.1) % 100, 1) for i, _ in entered],
        "reason": ["demo_requested" if i % 2 else "high_score" for i, _ in entered],
        "entered_at": [
            PHASES[p][0] - timedelta(hours=1) + timedelta(minutes=i) for i, p in entered
        ],
        "payload_hash": [_fingerprint(i, p) for i, p in entered],
        "crm_reach": ["reachable"] * len(entered),
    }
    tables = {
        "contacts": {
            "contact_key": [f"c{i:04d}" for i in everyone],
            "as_of": [as_of] * len(everyone),
        },
        "segment_membership": {
            "contact_key": [f"c{i:04d}" for _, i in members],
            "segment_id": [s for s, _ in members],
            "as_of": [as_of] * len(members),
        },
        "export_audience_members": audience,
        "export_crm_contacts": crm_rows,
        "export_lead_notifications": leads,
    }
    built = {}
    for name, columns in tables.items():
        rows = len(next(iter(columns.values())))
        built[name] = pa.table({**columns, "build_id": [build] * rows})
    return built


def _sql_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_floating(kind):
        return "double precision"
    return "varchar"


def load_phase(warehouse: Warehouse, people: int, phase: int) -> None:
    """Replace the scratch marts with the given phase's rows."""
    for name, table in scratch_tables(people, phase).items():
        warehouse.execute(f"delete from marts.{name}")
        warehouse.insert_arrow("marts", name, table)


def prepare_warehouse(warehouse: Warehouse, people: int) -> None:
    """Create the scratch marts, the sync state, and a passing quality verdict of each
    phase's build, which is what the gate reads (audience.checks.require_passing_checks)."""
    warehouse.execute("create schema if not exists marts")
    tables = scratch_tables(people, 0)
    for name, table in tables.items():
        warehouse.execute(f"drop table if exists marts.{name}")
        columns = ", ".join(f"{f.name} {_sql_type(f.type)}" for f in table.schema)
        warehouse.execute(f"create table marts.{name} ({columns})")
    # the other exports the gate reads the build of (none of their destinations is synced
    # here): empty, so the build is the scratch marts' own
    for name in built_relations():
        if name not in tables:
            warehouse.execute(f"drop table if exists marts.{name}")
            warehouse.execute(f"create table marts.{name} (build_id varchar)")
    suites = load_suites()
    for as_of, build in PHASES:
        stamp = as_of.strftime("%Y-%m-%d %H:%M:%S")
        passed = CheckRun(f"{build}-check", warehouse.target, stamp, stamp, build_id=build)
        passed.results = [
            CheckResult(s.name, "scratch", None, "critical", True, "faults suite", "passed")
            for s in suites
        ]
        record(warehouse, passed)
    ensure_state(warehouse)
    load_phase(warehouse, people, 0)


def _expected(warehouse: Warehouse, config: DestinationConfig) -> dict[str, dict[str, Any]]:
    """What the export says the destination should hold: fields by record key, built as the
    sync builds what it sends."""
    rows = warehouse.query(_export_query(config))
    return {
        row[0]: {"_audience": row[1]}
        | {f: _plain(v) for f, v in zip(config.fields, row[3:], strict=True)}
        for row in rows
    }


# --- fault points -----------------------------------------------------------------------------


class Chaos:
    """Kills the sync at the k-th fault point it passes in an attempt, k drawn per attempt
    from the seeded generator (or no kill at all in that attempt)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.countdown: int | None = None
        self.kills: Counter[str] = Counter()
        self.dying = False

    def arm(self, chance: float, span: int) -> None:
        self.dying = False
        self.countdown = self.rng.randint(1, span) if self.rng.random() < chance else None

    def point(self, name: str) -> None:
        if self.countdown is None:
            return
        self.countdown -= 1
        if self.countdown <= 0:
            self.countdown = None
            self.kills[name] += 1
            self.dying = True
            raise Killed(name)


class FaultyWarehouse:
    """The warehouse of a process that may die at a state commit, before or after it."""

    def __init__(self, inner: Warehouse, chaos: Chaos) -> None:
        self.inner = inner
        self.chaos = chaos

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self) -> None:
        self.chaos.point("before_state_commit")
        self.inner.commit()
        self.chaos.point("after_state_commit")

    def rollback(self) -> None:
        try:
            self.inner.rollback()
        except Exception:
            if not self.chaos.dying:  # after a kill past the commit there is nothing to undo
                raise


class FaultyDestination:
    """A destination whose process may die before or after each request (for the webhook:
    each record), before or after an ad file's rename, or inside the CRM's transaction."""

    def __init__(self, inner: Any, chaos: Chaos) -> None:
        self.inner = inner
        self.chaos = chaos
        if isinstance(inner, AdFiles):
            publish = inner.publish

            def dying_publish(part: Path, final: Path) -> None:
                chaos.point("before_rename")
                publish(part, final)
                chaos.point("after_rename")

            inner.publish = dying_publish  # type: ignore[method-assign]
        if isinstance(inner, CrmPostgres):
            upsert = inner._upsert

            def dying_upsert(cur: Any, change: Change) -> None:
                chaos.point("inside_crm_transaction")
                upsert(cur, change)

            inner._upsert = dying_upsert  # type: ignore[method-assign]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send(self, changes: Sequence[Change]) -> Delivery:
        self.chaos.point("before_send")
        delivery = self.inner.send(changes)
        self.chaos.point("after_send")
        return delivery

    def send_each(self, changes: Sequence[Change]) -> Iterator[tuple[Change, str | None]]:
        for change in changes:
            self.chaos.point("before_send")
            for answer in self.inner.send_each([change]):
                self.chaos.point("after_send")
                yield answer


def fault_plan(seed: int, rate: float) -> Callable[[int, str], str | None]:
    """A server fault for each request number, drawn from the seed: the same requests fail
    the same way in every run of the seed."""

    def plan(number: int, path: str) -> str | None:
        rng = random.Random(f"{seed}:{number}")
        if rng.random() >= rate:
            return None
        # slow answers cost the client's timeout: drawn less often
        return rng.choices(FAULTS, weights=(3, 3, 3, 3, 1, 1, 2))[0]

    return plan


# --- one kind, many seeds ---------------------------------------------------------------------


@dataclass
class Tally:
    """What the runs of one kind saw, and what the receiving side holds."""

    runs: int = 0
    attempts: int = 0
    records: int = 0
    lost: int = 0
    duplicated: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    server_faults: Counter[str] = field(default_factory=Counter)
    failed_attempts: int = 0
    resumed: int = 0
    subprocess_kills: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("runs", "attempts", "records", "lost", "duplicated", "failed_attempts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resumed += other.resumed
        self.subprocess_kills += other.subprocess_kills
        self.kills.update(other.kills)
        self.server_faults.update(other.server_faults)
        self.problems += other.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "attempts": self.attempts,
            "records": self.records,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "kills": dict(sorted(self.kills.items())),
            "server_faults": dict(sorted(self.server_faults.items())),
            "failed_attempts": self.failed_attempts,
            "resumed_in_flight": self.resumed,
            "subprocess_kills": self.subprocess_kills,
            "problems": self.problems[:10],
        }


def suite_config(kind: str, workdir: Path) -> DestinationConfig:
    """The shipped destination of the kind, pointed at the stand-ins, with small batches (many
    commits to die between), a short timeout (slow answers are given up on), no backoff, and
    no circuit breaker (what is tested is delivery, not the limits)."""
    config = load_config()[DESTINATIONS[kind]]
    options = dict(config.options)
    if kind == "audience_api":
        options["url_env"] = ENV["url"]
    elif kind == "webhook":
        options["url_env"] = ENV["webhook"]
    elif kind == "ad_files":
        options["directory_env"] = ENV["directory"]
    else:
        options["database_env"] = ENV["crm"]
    options |= {"timeout_seconds": 0.12, "backoff_seconds": 0}
    return dataclasses.replace(
        config,
        options=options,
        batch_size={"audience_api": 6, "webhook": 4, "crm_postgres": 7}.get(kind, 50),
        max_remove_share=1.0,
        max_change_share=1.0,
    )


class FaultSuite:
    """The stand-ins, the scratch warehouse and the CRM database of a series of runs."""

    def __init__(
        self,
        open_warehouse: Callable[[], Warehouse],
        crm_database: str,
        workdir: Path,
        people: int = 60,
    ) -> None:
        self.open_warehouse = open_warehouse
        self.crm_database = crm_database
        self.workdir = workdir
        self.people = people
        self.warehouse = open_warehouse()
        prepare_warehouse(self.warehouse, people)
        self.crm = self._crm()
        self._prepare_crm()

    def close(self) -> None:
        self.warehouse.close()
        self.crm.close()

    def _process_died(self) -> None:
        """The killed process's connection is gone, and with it what it had not committed:
        a new connection (an in-memory DuckDB, which a new connection would not see, has its
        open transaction rolled back instead)."""
        inner = self.warehouse
        if isinstance(inner, DuckDBWarehouse) and str(inner.path) == ":memory:":
            with suppress(Exception):
                inner.rollback()
            return
        inner.close()
        self.warehouse = self.open_warehouse()

    def _crm(self) -> Any:
        import psycopg2

        return psycopg2.connect(**postgres_params(self.crm_database))

    def _prepare_crm(self) -> None:
        """The CRM's contacts, and a log of every write to them (a trigger): a change applied
        twice is two rows there even when the second wrote the same values."""
        con = self.crm
        ensure_crm_schema(con)
        with con.cursor() as cur:
            cur.execute("create table if not exists crm_writes (contact_id text, payload text)")
            cur.execute(
                """create or replace function log_crm_write() returns trigger as $$
                begin
                    insert into crm_writes values (
                        new.contact_id, (to_jsonb(new) - 'audience_synced_at')::text);
                    return new;
                end $$ language plpgsql"""
            )
            cur.execute("drop trigger if exists crm_write_log on crm_contacts")
            cur.execute(
                "create trigger crm_write_log after insert or update on crm_contacts "
                "for each row execute function log_crm_write()"
            )
        con.commit()

    def _crm_rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.crm.cursor() as cur:
            cur.execute(sql)
            rows = list(cur.fetchall()) if cur.description else []
        self.crm.commit()
        return rows

    def _reset(self, config: DestinationConfig, directory: Path) -> None:
        """A destination that holds nothing yet, and the first build in the marts."""
        for table in ("delivered", "rejections", "in_flight", "files", "sync_runs"):
            self.warehouse.execute(
                f"delete from {STATE_SCHEMA}.{table} where destination = ?", (config.name,)
            )
        load_phase(self.warehouse, self.people, 0)
        if config.kind == "crm_postgres":
            self._crm_rows("truncate crm_contacts, crm_writes")
        directory.mkdir(parents=True, exist_ok=True)

    def _environment(self, server: Server, directory: Path) -> AbstractContextManager[None]:
        return environment(
            **{
                ENV["url"]: server.url,
                ENV["webhook"]: f"{server.url}/webhook",
                ENV["directory"]: str(directory),
                ENV["crm"]: self.crm_database,
            }
        )

    def run_kind(
        self, kind: str, runs: int, *, seed: int = 0, server_fault_rate: float = 0.2
    ) -> Tally:
        """`runs` seeded runs of one kind; each phase synced until a run succeeds."""
        tally = Tally()
        config = suite_config(kind, self.workdir)
        for run in range(runs):
            run_seed = seed * 10_000 + run
            tally.add(self._one_run(kind, config, run_seed, server_fault_rate))
        return tally

    def _one_run(self, kind: str, config: DestinationConfig, seed: int, rate: float) -> Tally:
        tally = Tally(runs=1)
        rng = random.Random(seed)
        chaos = Chaos(rng)
        state = ApiState(retry_after=0, slow_seconds=0.25)
        state.fault_plan = fault_plan(seed, rate) if kind in {"webhook", "audience_api"} else None
        server = Server(state)
        directory = self.workdir / f"{kind}-{seed}"
        try:
            with self._environment(server, directory):
                self._reset(config, directory)
                for phase in range(len(PHASES)):
                    if phase:
                        load_phase(self.warehouse, self.people, phase)
                    self._sync_until_success(config, chaos, PHASES[phase][0], tally)
                    self._count(kind, config, state, directory, phase, tally)
        finally:
            server.close()
        tally.kills = chaos.kills
        tally.server_faults = Counter(state.faults)
        return tally

    def _sync_until_success(
        self, config: DestinationConfig, chaos: Chaos, as_of: datetime, tally: Tally
    ) -> None:
        for attempt in range(MAX_ATTEMPTS):
            tally.attempts += 1
            # kills in the first attempts; later ones run clean, so that every run ends
            chaos.arm(chance=0.7 if attempt < 6 else 0.0, span=40)
            destination = FaultyDestination(open_destination(config), chaos)
            warehouse = FaultyWarehouse(self.warehouse, chaos)
            killed = False
            try:
                result = sync_destination(warehouse, config, destination, as_of=as_of)  # type: ignore[arg-type]
                tally.resumed += result.resumed
                if result.status == "success":
                    return
                tally.failed_attempts += 1
            except Killed:
                killed = True
            except SyncError:
                tally.failed_attempts += 1
            finally:
                destination.inner.close()
                if killed:
                    self._process_died()
        raise RuntimeError(f"{config.name}: no successful sync in {MAX_ATTEMPTS} attempts")

    # --- counting at the receiving side ---

    def _count(
        self,
        kind: str,
        config: DestinationConfig,
        state: ApiState,
        directory: Path,
        phase: int,
        tally: Tally,
    ) -> None:
        expected = _expected(self.warehouse, config)
        counter = getattr(self, f"_count_{kind}")
        lost, duplicated, records = counter(config, expected, state, directory, phase)
        tally.records += records
        tally.lost += lost
        tally.duplicated += duplicated
        if lost or duplicated:
            tally.problems.append(f"{kind} phase {phase}: lost {lost}, duplicated {duplicated}")

    def _count_webhook(
        self, config: DestinationConfig, expected: dict, state: ApiState, *_: Any
    ) -> tuple[int, int, int]:
        wanted = Counter(
            json.dumps(
                {"event": "lead_routed", **{k: v for k, v in f.items() if k != "_audience"}},
                sort_keys=True,
            )
            for f in expected.values()
        )
        seen = state.notified
        lost = sum(1 for body in wanted if body not in seen)
        duplicated = sum(n - 1 for n in seen.values() if n > 1)
        duplicated += sum(n for body, n in seen.items() if body not in wanted)
        return lost, duplicated, len(wanted)

    def _count_audience_api(
        self, config: DestinationConfig, expected: dict, state: ApiState, *_: Any
    ) -> tuple[int, int, int]:
        lists: dict[str, set[str]] = {}
        for fields in expected.values():
            lists.setdefault(fields["_audience"], set()).add(fields["email"])
        lost = sum(
            len(emails ^ state.lists.get(audience, set())) for audience, emails in lists.items()
        )
        lost += sum(len(m) for a, m in state.lists.items() if a not in lists)
        duplicated = sum(n - 1 for n in state.adds.values() if n > 1)
        duplicated += sum(n - 1 for n in state.removes.values() if n > 1)
        return lost, duplicated, len(expected)

    def _count_ad_files(
        self, config: DestinationConfig, expected: dict, state: ApiState, directory: Path, *_: Any
    ) -> tuple[int, int, int]:
        platforms = list(config.options.get("platforms") or ["meta"])
        audiences: dict[str, list[str]] = {}
        for fields in expected.values():
            audiences.setdefault(fields["_audience"], []).append(fields["email"])
        lost = duplicated = 0
        for audience, emails in audiences.items():
            for platform in platforms:
                files = sorted((directory / platform / audience).glob("*.csv"))
                if not files:
                    lost += len(emails)
                    continue
                stamps = Counter(p.name.rsplit("-", 2)[1] for p in files)
                for stamp, n in stamps.items():
                    if n > 1:  # one build's audience delivered in more than one file
                        extra = [p for p in files if p.name.rsplit("-", 2)[1] == stamp][1:]
                        duplicated += sum(len(p.read_text().splitlines()) - 1 for p in extra)
                lines = files[-1].read_text().splitlines()
                held = Counter(lines[1:])
                want = {hashed_email(e, platform) for e in emails}
                lost += len(want - set(held)) + len(set(held) - want)
                duplicated += sum(n - 1 for n in held.values() if n > 1)
        # the state's record of every file: the newest of each audience and platform must be
        # on disk (older ones are removed once superseded), and one build's audience named in
        # two files is a second delivery even when the older file is gone
        named = self.warehouse.query(
            f"select audience_key, platform, as_of, file_name, records from {STATE_SCHEMA}.files "
            "where destination = ?",
            (config.name,),
        )
        current = StateReader(self.warehouse, config.name).current_files()
        lost += sum(
            records
            for audience, platform, _, name, records in named
            if current.get((audience, platform)) == name and not Path(name).exists()
        )
        seen: set[tuple[Any, ...]] = set()
        for audience, platform, as_of, _, records in sorted(named, key=lambda r: r[3]):
            if (audience, platform, as_of) in seen:
                duplicated += records  # the records of a second file of the same build
            seen.add((audience, platform, as_of))
        stale = [*directory.glob("*/*/.*.part")]
        if stale:
            lost += len(stale)  # a temporary file the run should have cleared
        return lost, duplicated, len(expected) * len(platforms)

    def _count_crm_postgres(
        self, config: DestinationConfig, expected: dict, *_: Any
    ) -> tuple[int, int, int]:
        audience_fields = [f for f in config.fields if f.startswith("audience_")]
        rows = self._crm_rows(f"select contact_id, {', '.join(audience_fields)} from crm_contacts")
        held = {row[0]: dict(zip(audience_fields, row[1:], strict=True)) for row in rows}
        wanted = {f["contact_id"]: {k: f[k] for k in audience_fields} for f in expected.values()}
        lost = sum(1 for contact, fields in wanted.items() if held.get(contact) != fields)
        # contacts that left the export hold no audience field any more
        lost += sum(
            1
            for contact, fields in held.items()
            if contact not in wanted and any(v is not None for v in fields.values())
        )
        writes = self._crm_rows(
            "select contact_id, payload, count(*) from crm_writes group by 1, 2"
        )
        duplicated = sum(n - 1 for _, _, n in writes if n > 1)
        self._crm_rows("truncate crm_writes")  # each phase counts its own writes
        return lost, duplicated, len(wanted)

    # --- a real kill ---

    def subprocess_kill(self, seed: int = 0, after_records: int = 3) -> Tally:
        """The webhook sync in a subprocess, SIGKILLed once the receiver has processed
        `after_records` records (its answers are slow, so the kill lands mid-run); then
        synced again here until success, and counted."""
        tally = Tally(runs=1, subprocess_kills=1)
        config = suite_config("webhook", self.workdir)
        state = ApiState(slow_seconds=0.05)
        # every answer a little slow: the child is still sending when it is killed
        state.fault_plan = lambda number, path: "slow_after"
        server = Server(state)
        directory = self.workdir / f"subprocess-{seed}"
        try:
            with self._environment(server, directory):
                self._reset(config, directory)
                self.warehouse.close()  # DuckDB takes one writer: the child's
                log = directory / "child.log"
                with log.open("wb") as output:
                    child = subprocess.Popen(
                        [sys.executable, "-c", "from audience.sync_faults import _child; _child()"],
                        env={**os.environ, "AUDIENCE_FAULTS_CHILD": json.dumps(self._child_spec())},
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                    deadline = time.monotonic() + 60
                    while sum(state.notifications.values()) < after_records:
                        if child.poll() is not None or time.monotonic() > deadline:
                            child.kill()
                            raise RuntimeError(
                                f"the child ended before the kill: {log.read_text()[-2000:]}"
                            )
                        time.sleep(0.005)
                    child.send_signal(signal.SIGKILL)
                    child.wait()
                tally.kills["sigkill"] += 1
                self.warehouse = self.open_warehouse()
                state.fault_plan = None
                chaos = Chaos(random.Random(seed))
                self._sync_until_success(config, chaos, PHASES[0][0], tally)
                tally.kills.update(chaos.kills)
                self._count("webhook", config, state, directory, 0, tally)
        finally:
            server.close()
        return tally  # the answers were slow to pace the child, not to fail: no server fault

    def _child_spec(self) -> dict[str, Any]:
        inner = self.warehouse
        if isinstance(inner, DuckDBWarehouse):
            return {"duckdb": str(inner.path), "workdir": str(self.workdir)}
        assert isinstance(inner, PostgresWarehouse)
        return {"postgres": inner.dbname, "workdir": str(self.workdir)}


def _child() -> None:
    """The subprocess of `FaultSuite.subprocess_kill`: one webhook sync, until it is killed."""
    spec = json.loads(os.environ["AUDIENCE_FAULTS_CHILD"])
    warehouse: Warehouse = (
        DuckDBWarehouse(Path(spec["duckdb"]))
        if "duckdb" in spec
        else PostgresWarehouse(spec["postgres"])
    )
    config = suite_config("webhook", Path(spec["workdir"]))
    destination = open_destination(config)
    sync_destination(warehouse, config, destination, as_of=PHASES[0][0])


# --- the suite --------------------------------------------------------------------------------


@contextmanager
def scratch_postgres_database(prefix: str = "audience_faults") -> Iterator[str]:
    """A PostgreSQL database of its own on the PG* server, dropped afterwards."""
    import psycopg2

    admin = psycopg2.connect(**postgres_params(os.environ.get("PGDATABASE", "postgres")))
    admin.autocommit = True
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur, suppress(Exception):
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def run_fault_suite(
    target: str = "duckdb",
    *,
    runs: int = 30,
    kinds: Sequence[str] = KINDS,
    people: int = 60,
    seed: int = 0,
    workdir: Path | None = None,
    warehouse_database: str | None = None,
    crm_database: str | None = None,
    subprocess_kill: bool = True,
) -> dict[str, Any]:
    """Run the fault suite on a scratch warehouse of `target` (duckdb or postgres) and return
    its figures: per kind and in total, runs, attempts, faults injected by kind (server
    faults and kill points), records lost and duplicated. The CRM (and a PostgreSQL
    warehouse) get databases of their own on the PG* server unless given."""
    import tempfile
    from contextlib import ExitStack

    if target not in {"duckdb", "postgres"}:
        raise ValueError(f"target must be duckdb or postgres, not {target}")
    started = time.perf_counter()
    with ExitStack() as stack:
        root = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        root.mkdir(parents=True, exist_ok=True)
        crm = crm_database or stack.enter_context(scratch_postgres_database("audience_faults_crm"))
        if target == "postgres":
            database = warehouse_database or stack.enter_context(
                scratch_postgres_database("audience_faults_wh")
            )

            def opener() -> Warehouse:
                return PostgresWarehouse(database)

        else:
            # in memory: a DuckDB file costs milliseconds a statement, and the seeded runs
            # make thousands; the real kill below runs on a file, as a killed process must
            def opener() -> Warehouse:
                return DuckDBWarehouse(Path(":memory:"))

        suite = FaultSuite(opener, crm, root, people=people)
        try:
            by_kind = {kind: suite.run_kind(kind, runs, seed=seed) for kind in kinds}
            if subprocess_kill and "webhook" in kinds and target == "postgres":
                by_kind["webhook"].add(suite.subprocess_kill(seed))
        finally:
            suite.close()
        if subprocess_kill and "webhook" in kinds and target == "duckdb":
            path = root / "faults.duckdb"
            path.unlink(missing_ok=True)
            on_file = FaultSuite(lambda: DuckDBWarehouse(path), crm, root, people=people)
            try:
                by_kind["webhook"].add(on_file.subprocess_kill(seed))
            finally:
                on_file.close()
    total = Tally()
    for tally in by_kind.values():
        total.add(tally)
    return {
        "target": target,
        "seconds": round(time.perf_counter() - started, 1),
        "kinds": {kind: tally.as_dict() for kind, tally in by_kind.items()},
        "total": total.as_dict(),
    }


def summary_line(figures: dict[str, Any]) -> str:
    """One line of the figures: runs, faults injected by kind, records lost and duplicated."""
    total = figures["total"]
    faults = {**total["server_faults"], **total["kills"]}
    injected = sum(faults.values())
    detail = ", ".join(f"{name} {n}" for name, n in sorted(faults.items()))
    per_kind = "; ".join(
        f"{kind}: {t['runs']} runs, {t['lost']} lost, {t['duplicated']} duplicated"
        for kind, t in figures["kinds"].items()
    )
    return (
        f"sync faults on {figures['target']}: {total['runs']} runs, {total['attempts']} "
        f"attempts, {injected} faults injected ({detail}), {total['records']} records "
        f"checked, {total['lost']} lost, {total['duplicated']} duplicated "
        f"({figures['seconds']}s) [{per_kind}]"
    )
