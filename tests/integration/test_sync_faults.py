"""Exactly-once delivery under faults, counted at the receiving side.

The seeded runs of audience.sync_faults, on DuckDB and on PostgreSQL as the warehouse that
holds sync_state: for every destination kind, records lost 0 and records delivered twice 0,
whatever the stand-in servers do (fail before or after processing, drop the connection, answer
slowly, 429, 5xx) and wherever the sync is killed. Plus the pieces the guarantee rests on,
each shown alone: a receiver that ignores Idempotency-Key gets duplicates (so the contract is
real), a POST without a key is not re-sent once the server took it, ad files are named only
once written, and the CRM does not apply a change twice.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import psycopg2
import pytest
import requests
from warehouses import environment, postgres_database

from audience.devservers import FAULTS, ApiState, Server
from audience.sync_faults import (
    ENV,
    PHASES,
    Chaos,
    FaultSuite,
    FaultyDestination,
    Killed,
    run_fault_suite,
    suite_config,
    summary_line,
)
from audience.syncs import Change, CrmPostgres, open_destination, sync_destination
from audience.syncs.destinations.http import _http_session
from audience.warehouse import DuckDBWarehouse, postgres_params

pytestmark = pytest.mark.postgres  # the CRM is a PostgreSQL database, whatever the warehouse

RUNS = 30  # seeded runs per destination kind and warehouse
PEOPLE = 30
AS_OF = PHASES[0][0]


@pytest.fixture(scope="module")
def crm() -> Iterator[str]:
    with postgres_database() as name:
        yield name


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_record_is_delivered_exactly_once_whatever_fails(target, crm, tmp_path):
    with postgres_database() if target == "postgres" else nullcontext() as database:
        figures = run_fault_suite(
            target,
            runs=RUNS,
            people=PEOPLE,
            workdir=tmp_path,
            warehouse_database=database,
            crm_database=crm,
        )
    print("\n" + summary_line(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=2))
    for kind, tally in figures["kinds"].items():
        assert tally["runs"] >= RUNS, kind
        assert (tally["lost"], tally["duplicated"]) == (0, 0), (kind, tally["problems"])
        assert tally["records"] > 0, kind
    total = figures["total"]
    # the faults happened: every kind of server failure and every kill point
    assert set(total["server_faults"]) == set(FAULTS)
    assert {
        "before_send",
        "after_send",
        "before_state_commit",
        "after_state_commit",
        "before_rename",
        "after_rename",
        "inside_crm_transaction",
        "sigkill",
    } <= set(total["kills"])
    # records left in flight by a kill or a lost answer were re-sent with their keys
    assert total["resumed_in_flight"] > 0


# --- the pieces, one at a time ----------------------------------------------------------------


@pytest.fixture
def suite(crm, tmp_path) -> Iterator[FaultSuite]:
    faults = FaultSuite(lambda: DuckDBWarehouse(Path(":memory:")), crm, tmp_path, people=PEOPLE)
    yield faults
    faults.close()


def drop_after(numbers: set[int]):
    """Process these requests, then drop the connection before answering."""
    return lambda number, path: "drop_after" if number in numbers else None


@pytest.mark.parametrize("honoured", [True, False])
def test_a_lost_answer_is_resent_with_its_key_and_only_a_receiver_honouring_it_takes_it_once(
    suite, tmp_path, honoured
):
    """The webhook's second and fifth requests are processed and their answers lost. A
    receiver that honours Idempotency-Key notifies each lead once; one that ignores it, twice
    for those two: the guarantee is the receiver's as much as the sender's (README)."""
    config = suite_config("webhook", tmp_path)
    # a patient client: only the planted faults lose answers, not a busy machine
    config = dataclasses.replace(config, options={**config.options, "timeout_seconds": 10})
    state = ApiState(honour_idempotency_keys=honoured, fault_plan=drop_after({2, 5}))
    server = Server(state)
    try:
        with environment(**{ENV["webhook"]: f"{server.url}/webhook"}):
            destination = open_destination(config)
            try:
                run = sync_destination(suite.warehouse, config, destination, as_of=AS_OF)
            finally:
                destination.close()
    finally:
        server.close()
    assert run.status == "success"
    assert len(state.notified) == run.added  # every lead notified
    twice = sorted(n for n in state.notified.values() if n > 1)
    assert twice == ([] if honoured else [2, 2])
    assert state.replayed == (2 if honoured else 0)


def test_a_post_without_a_key_is_not_resent_once_the_server_took_it():
    """urllib3 used to re-POST after a dropped connection (allowed_methods=None); now only a
    request with an Idempotency-Key (or of an idempotent method) is sent again."""
    state = ApiState(fault_plan=drop_after({1, 3}))
    server = Server(state)
    session = _http_session(None, backoff_seconds=0)
    members = {"members": [{"email": "a@example.com"}]}
    try:
        with pytest.raises(requests.ConnectionError):
            session.post(f"{server.url}/lists/x/members/add", json=members, timeout=5)
        assert state.adds[("x", "a@example.com")] == 1 and state.requests == 1  # not resent
        answer = session.post(
            f"{server.url}/lists/y/members/add",
            json=members,
            headers={"Idempotency-Key": "k-1"},
            timeout=5,
        )  # request 2: answered; then request 3 is the same key's lost answer
        again = session.post(
            f"{server.url}/lists/y/members/add",
            json=members,
            headers={"Idempotency-Key": "k-2"},
            timeout=5,
        )
    finally:
        session.close()
        server.close()
    assert answer.status_code == again.status_code == 200
    # request 3 (key k-2) was processed and its answer dropped; the retry (request 4) was
    # answered from the key, without adding again
    assert state.requests == 4 and state.replayed == 1
    assert state.adds[("y", "a@example.com")] == 2  # once per key: k-1 and k-2


def test_ad_files_are_named_by_the_state_only_once_written(suite, tmp_path):
    """Killed before the rename: no final file, no state, and the next run clears the
    temporary file. Killed after the rename, before the state: the rerun writes that same
    name again, and no second file appears."""
    config = suite_config("ad_files", tmp_path)
    directory = tmp_path / "ads"
    files = "select count(*) from sync_state.files where destination = 'ad_audiences'"

    def attempt(kill_at: str | None) -> None:
        chaos = Chaos(random.Random(0))
        destination = FaultyDestination(open_destination(config), chaos)
        if kill_at:
            chaos.countdown = 10**6
            chaos.point = _kill_at(chaos, kill_at)  # type: ignore[method-assign]
        try:
            sync_destination(suite.warehouse, config, destination, as_of=AS_OF)
        finally:
            destination.inner.close()

    with environment(**{ENV["directory"]: str(directory)}):
        with pytest.raises(Killed):
            attempt("before_rename")
        suite._process_died()
        assert not list(directory.glob("*/*/*.csv"))  # no final file
        assert len(list(directory.glob("*/*/.*.part"))) == 1  # the temporary one
        assert suite.warehouse.query(files) == [(0,)]

        with pytest.raises(Killed):
            attempt("after_rename")
        suite._process_died()
        assert not list(directory.glob("*/*/.*.part"))  # cleared by that run
        (written,) = directory.glob("*/*/*.csv")
        assert written.name == "ad_audiences-20260630T000000-1.csv"
        assert suite.warehouse.query(files) == [(0,)]  # the state does not name it yet

        attempt(None)
        finals = sorted(directory.glob("*/*/*.csv"))
    assert written in finals
    assert {p.name for p in finals} == {"ad_audiences-20260630T000000-1.csv"}
    (named,) = suite.warehouse.query(files)[0]
    assert named == len(finals)  # one per audience and platform, each named once


def _kill_at(chaos: Chaos, name: str):
    def point(where: str) -> None:
        if where == name:
            chaos.kills[where] += 1
            raise Killed(where)

    return point


def test_a_crm_batch_sent_again_after_its_commit_writes_nothing(crm, tmp_path):
    """The CRM's commit and the state's are two databases: a crash between them sends the
    batch again. The contacts already hold the values, so nothing is written twice (a trigger
    counts every write)."""
    config = suite_config("crm_postgres", tmp_path)
    with environment(**{ENV["crm"]: crm}):
        destination = CrmPostgres(config)
    con = psycopg2.connect(**postgres_params(crm))
    try:
        with con.cursor() as cur:
            cur.execute("create table if not exists writes (contact_id text)")
            cur.execute(
                "create or replace function count_write() returns trigger as $$ begin "
                "insert into writes values (new.contact_id); return new; end $$ "
                "language plpgsql"
            )
            cur.execute("drop trigger if exists counted on crm_contacts")
            cur.execute(
                "create trigger counted after insert or update on crm_contacts "
                "for each row execute function count_write()"
            )
            cur.execute("truncate crm_contacts, writes")
        con.commit()
        fields = {f: None for f in config.fields} | {
            "contact_id": "crm-1",
            "email": "one@example.com",
            "audience_lead_score": 42.5,
            "audience_segments": "seg_a",
        }
        upsert = [Change("add", "c1", "crm", "h1", fields)]
        changed = [Change("change", "c1", "crm", "h2", fields | {"audience_lead_score": 50.0})]
        removed = [Change("remove", "c1", "crm", None, fields)]
        outcomes = []
        for batch in (upsert, upsert, changed, changed, removed, removed):
            outcomes.append(destination.send(batch).acked)
        with con.cursor() as cur:
            cur.execute("select count(*) from writes")
            (writes,) = cur.fetchone()
            cur.execute("select audience_lead_score, email from crm_contacts")
            held = cur.fetchall()
    finally:
        destination.close()
        con.close()
    assert outcomes == [["c1"]] * 6  # each acknowledged, applied or already held
    assert writes == 3  # insert, change, clear: once each
    assert held == [(None, "one@example.com")]


def test_the_figures_reach_a_summary_line():
    figures = {
        "target": "duckdb",
        "seconds": 1.0,
        "kinds": {"webhook": {"runs": 1, "lost": 0, "duplicated": 0}},
        "total": {
            "runs": 1,
            "attempts": 3,
            "records": 10,
            "lost": 0,
            "duplicated": 0,
            "server_faults": {"drop_after": 2},
            "kills": {"before_send": 1},
        },
    }
    line = summary_line(figures)
    assert "1 runs, 3 attempts, 3 faults injected" in line and "0 lost, 0 duplicated" in line


def test_the_suite_sends_the_shipped_destinations(tmp_path):
    """Only pointed at the stand-ins, with smaller batches and no circuit breaker: the fields,
    channels and kinds are those of syncs.yml."""
    from audience.syncs import load_config

    for kind in ("webhook", "audience_api", "ad_files", "crm_postgres"):
        config = suite_config(kind, tmp_path)
        shipped = load_config()[config.name]
        assert config.kind == shipped.kind == kind
        assert (config.fields, config.channels, config.append_only) == (
            shipped.fields,
            shipped.channels,
            shipped.append_only,
        )
