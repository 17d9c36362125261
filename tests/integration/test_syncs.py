"""Reverse ETL end to end on generated data: diff-based, idempotent, safe, resumable."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg2
import pytest
from warehouses import BuiltWarehouse, build_warehouse, environment, postgres_database

from audience.checks import CheckResult, CheckRun, built_relations, record, run_checks
from audience.dbt import run_dbt
from audience.devservers import ApiState, Server
from audience.syncs import (
    INTERRUPTED_MESSAGE,
    Delivery,
    SyncError,
    SyncRefused,
    ensure_state,
    load_config,
    open_destination,
    pull_crm_changes,
    run_syncs,
    sync_destination,
)
from audience.warehouse import DuckDBWarehouse, postgres_params

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
#: what the lists destination sends: every segment's members the email channel reaches
LISTS = "marts.export_audience_members where email_reach = 'reachable'"
LIST_MEMBERS = f"select count(*) from {LISTS}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Iterator[BuiltWarehouse]:
    """Generated data built and checked on DuckDB, the CRM a PostgreSQL database."""
    from audience.generator import generate

    root = tmp_path_factory.mktemp("syncs")
    generate(root / "data", people=400, seed=11, as_of=AS_OF)
    path = root / "syncs.duckdb"
    with (
        postgres_database() as crm,
        environment(
            AUDIENCE_DUCKDB_PATH=str(path),
            AUDIENCE_OUTPUT_DIR=str(root / "output"),
            AUDIENCE_CRM_DATABASE=crm,
            AUDIENCE_AD_FILES_DIR=str(root / "ads"),
        ),
    ):
        built = build_warehouse("duckdb", root / "data", AS_OF, path=path)
        assert run_checks("duckdb", AS_OF, out=root / "output").success
        built.crm = crm
        built.ads = root / "ads"
        yield built


@pytest.fixture
def api(warehouse) -> Iterator[tuple[ApiState, Server]]:
    state = ApiState()
    server = Server(state)
    with environment(
        AUDIENCE_LISTS_API_URL=server.url, AUDIENCE_ROUTING_WEBHOOK_URL=f"{server.url}/webhook"
    ):
        yield state, server
    server.close()


@pytest.fixture
def con(warehouse) -> Iterator[DuckDBWarehouse]:
    connection = DuckDBWarehouse(warehouse.path)
    yield connection
    connection.close()


def forget(con: DuckDBWarehouse, destination: str) -> None:
    """Start a destination from scratch (a test's own first sync)."""
    ensure_state(con)
    for table in ("delivered", "rejections", "in_flight", "files"):
        con.execute(f"delete from sync_state.{table} where destination = ?", (destination,))


def email_list(con: DuckDBWarehouse, having: str = "true", smallest: bool = False) -> tuple:
    """(segment, members) of one list the lists destination sends (reachable by email):
    the largest, or with `smallest` the smallest, among those whose size passes `having`."""
    order = "2, 1" if smallest else "2 desc, 1"
    return con.query(
        f"select segment_id, count(*) from {LISTS} "
        f"group by 1 having {having} order by {order} limit 1"
    )[0]


def sync(con, name: str, **kwargs):
    config = load_config()[name]
    if "config" in kwargs:
        config = dataclasses.replace(config, **kwargs.pop("config"))
    destination = None if kwargs.get("dry_run") else open_destination(config)
    try:
        return sync_destination(con, config, destination, as_of=AS_OF, **kwargs)
    finally:
        if destination is not None:
            destination.close()


def test_first_sync_sends_everything_and_the_second_nothing(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    expected = con.query(LIST_MEMBERS)[0][0]

    first = sync(con, "marketing_lists")
    assert (first.status, first.added, first.changed, first.removed) == (
        "success",
        expected,
        0,
        0,
    )
    assert sum(len(m) for m in state.lists.values()) == expected
    assert set(state.adds.values()) == {1}
    requests = state.requests

    second = sync(con, "marketing_lists")
    assert second.sent == 0 and second.status == "success"
    assert state.requests == requests  # not one call
    logged = con.query(
        "select status, added, changed, removed, failed from sync_state.sync_runs "
        f"where run_id in ('{first.run_id}', '{second.run_id}') order by started_at"
    )
    assert logged == [("success", expected, 0, 0, 0), ("success", 0, 0, 0, 0)]


def test_an_older_build_than_the_destination_received_is_not_sent(warehouse, api, con):
    """The daily build as of midnight after a realtime build at 09:00 (or a backfill): the
    destination already has the later picture; sending the older one would take members
    back out. The sync skips, says why, and sends it only when forced."""
    state, _ = api
    forget(con, "marketing_lists")
    con.execute(
        "insert into sync_state.sync_runs (run_id, destination, as_of, status, dry_run) "
        "values ('later-build', 'marketing_lists', timestamp '2026-06-30 09:00:00', "
        "'success', false)"
    )
    try:
        skipped = sync(con, "marketing_lists")
        assert skipped.status == "skipped" and skipped.sent == 0
        assert "older than the build as of 2026-06-30 09:00:00" in skipped.format_line()
        assert state.requests == 0
        forced = sync(con, "marketing_lists", force=True)
        assert forced.status == "success" and forced.added > 0
    finally:
        con.execute("delete from sync_state.sync_runs where run_id = 'later-build'")


def test_an_older_picture_is_skipped_before_the_breaker_looks_at_it(warehouse, api, con):
    """The older picture differs from what the destination holds by more than the breaker
    allows (a list the later build had is gone in it): the sync skips, it is not refused,
    and nothing is removed."""
    state, _ = api
    forget(con, "marketing_lists")
    assert sync(con, "marketing_lists").status == "success"
    segment, _ = email_list(con, "count(*) >= 5")
    con.execute(
        "insert into sync_state.sync_runs (run_id, destination, as_of, status, dry_run) "
        "values ('later-build', 'marketing_lists', timestamp '2026-06-30 09:00:00', "
        "'success', false)"
    )
    try:
        with saved(con, "export_audience_members"):
            con.execute(f"delete from marts.export_audience_members where segment_id = '{segment}'")
            skipped = sync(con, "marketing_lists")
        assert skipped.status == "skipped" and skipped.sent == 0
        assert state.removes == {}
    finally:
        con.execute("delete from sync_state.sync_runs where run_id = 'later-build'")


def test_dry_run_lists_the_changes_and_sends_nothing(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    run = sync(con, "marketing_lists", dry_run=True)
    assert run.pending == {"add": con.query(LIST_MEMBERS)[0][0]}
    assert len(run.samples["add"]) == 5
    assert "dry run: would send" in run.format_line()
    assert state.requests == 0
    assert not con.query(
        "select count(*) from sync_state.delivered where destination = 'marketing_lists'"
    )[0][0]


def test_killing_the_server_halfway_then_retrying_delivers_each_record_once(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    expected = con.query(LIST_MEMBERS)[0][0]
    state.die_after_batches = 4
    small = {"batch_size": 25}

    with pytest.raises(SyncError, match="a retry sends the rest"):
        sync(con, "marketing_lists", config=small)
    acknowledged = con.query(
        "select count(*) from sync_state.delivered where destination = 'marketing_lists'"
    )[0][0]
    assert 0 < acknowledged < expected
    assert acknowledged == sum(state.adds.values())  # the state holds exactly what was taken
    assert con.query(
        "select status from sync_state.sync_runs where destination = 'marketing_lists' "
        "order by started_at desc limit 1"
    ) == [("failed",)]

    state.die_after_batches = None
    revived = Server(state)  # same lists, new process
    try:
        with environment(AUDIENCE_LISTS_API_URL=revived.url):
            retry = sync(con, "marketing_lists", config=small)
    finally:
        revived.close()
    assert retry.added == expected - acknowledged
    assert sum(len(m) for m in state.lists.values()) == expected
    assert set(state.adds.values()) == {1}  # every member added exactly once


def test_rate_limits_and_transient_errors_are_retried(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    state.throttle_requests = {1, 3}
    state.error_requests = {5}
    state.retry_after = 1
    started = time.perf_counter()
    run = sync(con, "marketing_lists")
    assert run.status == "success" and run.added == con.query(LIST_MEMBERS)[0][0]
    assert state.throttled == 2
    assert time.perf_counter() - started >= 2 * state.retry_after  # Retry-After was waited
    assert set(state.adds.values()) == {1}


#: made-up values the redaction must hide (no real service takes them)
SECRET_PATH = "/hooks/T0SECRET/B0PATH4242"
API_KEY = "FAKEKEY123"
TOKEN = "FAKE-BEARER-TOKEN-9f8e7d"


def test_no_secret_reaches_output_logs_or_state(warehouse, con, capsys, caplog, monkeypatch):
    """The lists API and the webhook at URLs whose path is a token, with `?api_key=` and a
    bearer token, failing every way (5xx that echo the request, rejections that echo it,
    connection refused): the CLI's output, every log record and the state tables name the
    host and what went wrong, never a secret."""
    from urllib3.util.retry import Retry

    from audience.cli import main

    monkeypatch.setattr(Retry, "get_backoff_time", lambda self: 0)  # retries, without waiting
    caplog.set_level(logging.DEBUG)
    for destination in ("marketing_lists", "lead_routing"):
        forget(con, destination)
    email = con.query(f"select min(email) from {LISTS}")[0][0]
    state = ApiState(prefix=SECRET_PATH, echo_requests=True)
    server = Server(state)
    codes = []
    try:
        with environment(
            AUDIENCE_LISTS_API_URL=f"{server.url}{SECRET_PATH}?api_key={API_KEY}",
            AUDIENCE_LISTS_API_TOKEN=TOKEN,
            AUDIENCE_ROUTING_WEBHOOK_URL=f"{server.url}{SECRET_PATH}/webhook?api_key={API_KEY}",
        ):
            state.reject_emails = {email}  # a rejection whose reason echoes the request
            codes.append(main(["sync", "marketing_lists"]))
            # the rejected member is pending: the next run sends it again, into 503s
            state.error_requests = set(range(state.requests + 1, state.requests + 1000))
            codes.append(main(["sync", "marketing_lists"]))  # 503, retried, then given up
            codes.append(main(["sync", "lead_routing"]))
            server.kill()
            time.sleep(0.2)
            codes.append(main(["sync", "marketing_lists"]))  # connection refused
    finally:
        server.close()
    # a rejection and each failed delivery: exit 1, every destination reported on its line
    assert codes == [1, 1, 1, 1]
    captured = capsys.readouterr()
    runs = con.query(
        "select destination, status, message from sync_state.sync_runs "
        "where destination in ('marketing_lists', 'lead_routing')"
    )
    rejections = con.query(
        "select * from sync_state.rejections where destination = 'marketing_lists'"
    )
    texts = {
        "stdout": captured.out,
        "stderr": captured.err,
        "logs": caplog.text,
        **{f"log record {i}": r.getMessage() for i, r in enumerate(caplog.records)},
        "sync_runs": repr(runs),
        "rejections": repr(rejections),
    }
    for secret in (API_KEY, TOKEN, SECRET_PATH, "B0PATH4242", "T0SECRET"):
        leaked = [where for where, text in texts.items() if secret in text]
        assert not leaked, f"{secret} in {leaked}"
    # what went wrong is still said, with the host
    assert "HTTP 503" in captured.out and "ConnectionError" in captured.out
    assert "127.0.0.1" in captured.out
    assert any(status == "failed" and "HTTP 503" in message for _, status, message in runs)
    assert any(reason.startswith("invalid address") for reason in (r[3] for r in rejections))


def test_a_rejected_member_is_kept_with_its_reason_and_retried(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    email = con.query(f"select min(email) from {LISTS}")[0][0]
    state.reject_emails = {email}
    first = sync(con, "marketing_lists")
    assert first.status == "partial" and first.failed >= 1
    reasons = con.query(
        "select distinct reason from sync_state.rejections where destination = 'marketing_lists'"
    )
    assert reasons == [("invalid address",)]

    state.reject_emails = set()
    second = sync(con, "marketing_lists")
    assert second.added == first.failed and second.status == "success"
    assert not con.query(
        "select count(*) from sync_state.rejections where destination = 'marketing_lists'"
    )[0][0]


def test_a_member_refused_max_attempts_times_is_dead_lettered_until_it_changes(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    email = con.query(f"select min(email) from {LISTS}")[0][0]
    refused = con.query(f"select count(*) from {LISTS} and email = '{email}'")[0][0]
    state.reject_emails = {email}
    limits = {"max_attempts": 2}
    first = sync(con, "marketing_lists", config=limits)
    assert (first.status, first.failed, first.dead_lettered) == ("partial", refused, 0)
    second = sync(con, "marketing_lists", config=limits)
    assert (second.status, second.failed, second.dead_lettered) == ("failed", refused, refused)
    assert "dead-lettered" in second.message
    # held back, not retried: the next run sends nothing and says why
    third = sync(con, "marketing_lists", config=limits)
    assert (third.status, third.sent, third.failed, third.held_back) == ("success", 0, 0, refused)
    assert "held back" in third.message
    assert con.query(
        "select min(attempts), count(*) from sync_state.rejections "
        "where destination = 'marketing_lists' and dead_lettered_at is not null"
    ) == [(2, refused)]
    # deleting the row retries it (the README's way), and an accepted record leaves the table
    state.reject_emails = set()
    con.execute("delete from sync_state.rejections where destination = 'marketing_lists'")
    fourth = sync(con, "marketing_lists", config=limits)
    assert (fourth.status, fourth.added, fourth.held_back) == ("success", refused, 0)


def test_circuit_breaker_and_empty_export_refuse_unless_forced(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    sync(con, "marketing_lists")
    segment, members = email_list(con)
    con.execute("create table marts.export_saved as select * from marts.export_audience_members")
    try:
        con.execute(
            "delete from marts.export_audience_members where record_key in (select record_key "
            f"from {LISTS} and segment_id = '{segment}' "
            f"order by record_key limit {members // 2})"
        )
        with pytest.raises(
            SyncRefused,
            match=rf"audience {segment}: holds {members}, would remove {members // 2} \(50%, "
            r"limit max_remove_share 30%\)",
        ):
            sync(con, "marketing_lists")
        assert state.removes == {}  # nothing sent
        forced = sync(con, "marketing_lists", force=True)
        assert forced.removed == members // 2
        assert len(state.lists[segment]) == members - members // 2

        con.execute("delete from marts.export_audience_members")
        with pytest.raises(SyncRefused, match="export export_audience_members is empty"):
            sync(con, "marketing_lists")
        # a destination that holds nothing: an empty export withdraws nothing, so it goes
        forget(con, "marketing_lists")
        nothing = sync(con, "marketing_lists")
        assert (nothing.added, nothing.removed) == (0, 0)
    finally:
        con.execute("delete from marts.export_audience_members")
        con.execute("insert into marts.export_audience_members select * from marts.export_saved")
        con.execute("drop table marts.export_saved")


def test_mirror_semantics_remove_only_what_this_project_added(warehouse, api, con):
    state, _ = api
    forget(con, "marketing_lists")
    segment = con.query("select min(segment_id) from marts.export_audience_members")[0][0]
    state.lists[segment] = {"added-by-marketing@example.com"}
    sync(con, "marketing_lists")
    con.execute("create table marts.export_saved as select * from marts.export_audience_members")
    try:
        con.execute(f"delete from marts.export_audience_members where segment_id = '{segment}'")
        sync(con, "marketing_lists", force=True)
    finally:
        con.execute("delete from marts.export_audience_members")
        con.execute("insert into marts.export_audience_members select * from marts.export_saved")
        con.execute("drop table marts.export_saved")
    assert state.lists[segment] == {"added-by-marketing@example.com"}


def test_the_quality_gates_stop_every_sync(warehouse, api, con):
    """Each destination is refused on its own (run_syncs goes on to the next and reports
    each); none sends anything, --force or not."""
    state, _ = api
    failed = CheckRun("gate-test-fail", "duckdb", "2026-06-30 00:00:00", "2999-01-01 00:00:00")
    failed.results = [
        CheckResult("raw_freshness", "e", "c", "critical", False, "fresh", "stale: pages")
    ]
    record(con, failed)
    try:
        runs = run_syncs(con, ["marketing_lists", "ad_audiences"], as_of=AS_OF, force=True)
        assert [r.status for r in runs] == ["refused", "refused"]
        assert all(
            re.search(r"quality checks of build .* \(as_of 2026-06-30 00:00:00.* failed", r.message)
            for r in runs
        )
        assert not any(r.ok for r in runs)
        assert state.requests == 0
        assert con.query(
            "select status from sync_state.sync_runs order by started_at desc limit 1"
        ) == [("refused",)]
    finally:
        con.execute("delete from quality.check_runs where run_id = 'gate-test-fail'")


def crm_rows(crm: str, sql: str) -> list[tuple]:
    connection = psycopg2.connect(**postgres_params(crm))
    try:
        with connection.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        connection.close()


def adopt_newest_build(con: DuckDBWarehouse) -> None:
    """A test's shortcut after rebuilding one export with `dbt run --select`: every mart takes
    the export's build id, as if one build had written them (they are checked again next)."""
    (newest,) = con.query("select distinct build_id from marts.export_crm_contacts")[0]
    for relation in built_relations():
        con.execute(f"update marts.{relation} set build_id = ?", (newest,))


def test_crm_upserts_audience_fields_and_a_changed_contact_sends_only_that_contact(warehouse, con):
    forget(con, "crm")
    expected = con.query(
        "select count(*) from marts.export_crm_contacts where crm_reach = 'reachable'"
    )[0][0]
    first = sync(con, "crm")
    assert first.added == expected and first.status == "success"
    assert crm_rows(warehouse.crm, "select count(*) from crm_contacts") == [(expected,)]
    key, crm_id = con.query(
        "select contact_key, crm_contact_id from marts.export_crm_contacts "
        "order by contact_key limit 1"
    )[0]

    con.execute(f"update marts.contacts set lead_score = 77.5 where contact_key = '{key}'")
    con.close()  # dbt writes the export
    run_dbt(["run", "--select", "export_crm_contacts"], target="duckdb", as_of=AS_OF)
    connection = DuckDBWarehouse(warehouse.path)
    try:
        # the rebuilt export is another build than the marts: no sync until they are one
        # build and checked
        with pytest.raises(SyncRefused, match="mix of builds"):
            sync(connection, "crm")
        adopt_newest_build(connection)
    finally:
        connection.close()  # dbt compiles the checks
    assert run_checks("duckdb", AS_OF, out=warehouse.path.parent / "output").success
    connection = DuckDBWarehouse(warehouse.path)
    try:
        second = sync(connection, "crm")
    finally:
        connection.close()
    assert (second.added, second.changed, second.removed) == (0, 1, 0)
    assert crm_rows(
        warehouse.crm, f"select audience_lead_score from crm_contacts where contact_id = '{crm_id}'"
    ) == [(77.5,)]


def test_crm_tasks_are_created_once_and_closed_when_the_record_leaves(warehouse, con):
    """One re-verification task per stale CRM record, for its owner: a second sync creates
    nothing, and a record that leaves the export (verified) has its task set done."""
    forget(con, "crm_tasks")
    expected = con.query(
        "select count(*) from marts.export_crm_tasks where crm_reach = 'reachable'"
    )[0][0]
    assert expected > 0, "the demo data has stale CRM records"
    first = sync(con, "crm_tasks")
    assert (first.status, first.added) == ("success", expected)
    assert crm_rows(warehouse.crm, "select status, count(*) from crm_tasks group by status") == [
        ("open", expected)
    ]
    task, crm_id, owner = con.query(
        "select task_id, crm_contact_id, owner_id from marts.export_crm_tasks "
        "where crm_reach = 'reachable' order by task_id limit 1"
    )[0]
    assert crm_rows(
        warehouse.crm,
        f"select contact_id, owner_id, task_type from crm_tasks where task_id = '{task}'",
    ) == [(crm_id, owner, "reverify_firmographics")]
    assert sync(con, "crm_tasks").sent == 0
    con.execute(f"delete from marts.export_crm_tasks where task_id = '{task}'")
    third = sync(con, "crm_tasks")
    assert (third.added, third.changed, third.removed) == (0, 0, 1)
    assert crm_rows(warehouse.crm, f"select status from crm_tasks where task_id = '{task}'") == [
        ("done",)
    ]
    assert sync(con, "crm_tasks").sent == 0


def test_sequences_enroll_members_once_and_unenroll_who_leaves(warehouse, api, con):
    """The routed MQLs the email channel reaches are enrolled in their outbound sequence;
    a second sync sends nothing; a member who leaves the segment is unenrolled."""
    state, server = api
    forget(con, "sequences")
    expected = set(
        con.query(
            "select contact_key from marts.export_sequence_enrollments "
            "where email_reach = 'reachable' and sequence_id = 'mql_follow_up'"
        )
    )
    assert expected, "the demo data has routed MQLs"
    with environment(AUDIENCE_SEQUENCES_API_URL=server.url):
        first = sync(con, "sequences")
        assert (first.status, first.added) == ("success", len(expected))
        assert set(state.sequences["mql_follow_up"]) == {key for (key,) in expected}
        assert set(state.enrolls.values()) == {1}
        requests = state.requests
        assert sync(con, "sequences").sent == 0
        assert state.requests == requests
        (leaver,) = sorted(expected)[0]
        con.execute(f"delete from marts.export_sequence_enrollments where contact_key = '{leaver}'")
        third = sync(con, "sequences")
    assert (third.added, third.changed, third.removed) == (0, 0, 1)
    assert leaver not in state.sequences["mql_follow_up"]
    assert state.unenrolls[("mql_follow_up", leaver)] == 1


def test_crm_rejects_a_bad_record_alone(warehouse):
    connection = DuckDBWarehouse(warehouse.path)
    try:
        forget(connection, "crm")
        key = connection.query("select min(contact_key) from marts.export_crm_contacts")[0][0]
        connection.execute(
            "update marts.export_crm_contacts set lead_score = 140, payload_hash = 'x' "
            f"where contact_key = '{key}'"
        )
        run = sync(connection, "crm")
        assert run.status == "partial" and run.failed == 1
        (reason,) = connection.query(
            f"select reason from sync_state.rejections where destination = 'crm' "
            f"and record_key = '{key}'"
        )[0]
        assert "audience_lead_score_check" in reason
    finally:
        connection.close()


def test_ad_files_hold_normalized_hashed_emails_one_file_per_audience(warehouse, con):
    forget(con, "ad_audiences")
    run = sync(con, "ad_audiences")
    assert run.status == "success" and run.added > 0
    members = con.query(
        "select segment_id, email from marts.export_audience_members "
        "where channel = 'any' and ads_reach = 'reachable'"
    )
    by_segment: dict[str, set[str]] = {}
    for segment, email in members:
        by_segment.setdefault(segment, set()).add(email)
    # one file per audience, platform and build: <platform>/<audience>/<destination>-<as_of>-<n>
    meta_files = sorted((warehouse.ads / "meta").glob("*/*.csv"))
    assert {p.parent.name for p in meta_files} == set(by_segment)
    assert {p.name for p in meta_files} == {"ad_audiences-20260630T000000-1.csv"}
    assert not list(warehouse.ads.glob("**/.*.part"))  # no temporary file left
    named = con.query(
        "select audience_key, platform, file_name from sync_state.files "
        "where destination = 'ad_audiences'"
    )
    assert {(a, p) for a, p, _ in named} == {(s, p) for s in by_segment for p in ("meta", "google")}
    segment, emails = max(by_segment.items(), key=lambda item: len(item[1]))
    with (warehouse.ads / "meta" / segment / "ad_audiences-20260630T000000-1.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["email_sha256"]
    expected = {hashlib.sha256(e.strip().lower().encode()).hexdigest() for e in emails}
    assert {r[0] for r in rows[1:]} == expected


def test_lead_routing_webhook_notifies_each_entry_once(warehouse, api, con):
    state, _ = api
    forget(con, "lead_routing")
    entries = con.query("select count(*) from marts.export_lead_notifications")[0][0]
    first = sync(con, "lead_routing")
    second = sync(con, "lead_routing")
    assert first.added == entries > 0 and second.sent == 0
    assert len(state.notifications) == entries and set(state.notifications.values()) == {1}


@contextmanager
def saved(con: DuckDBWarehouse, model: str) -> Iterator[None]:
    """Let a test rewrite an export, as a rebuild would; it is put back afterwards."""
    con.execute(f"create table marts.saved_{model} as select * from marts.{model}")
    try:
        yield
    finally:
        con.execute(f"delete from marts.{model}")
        con.execute(f"insert into marts.{model} select * from marts.saved_{model}")
        con.execute(f"drop table marts.saved_{model}")


def test_a_rebuild_that_changes_every_crm_contact_is_refused_unless_forced(warehouse, con):
    forget(con, "crm")
    first = sync(con, "crm")
    contacts = first.added  # what the CRM holds (an earlier test left one bad record)
    assert contacts > 0
    crm_scores = "select sum(audience_lead_score), max(audience_synced_at) from crm_contacts"
    before = crm_rows(warehouse.crm, crm_scores)
    with saved(con, "export_crm_contacts"):
        # a rebuilt export where every contact's lead score changed (a broken scoring change)
        con.execute(
            "update marts.export_crm_contacts set lead_score = round(lead_score / 2, 1) + 0.01, "
            "payload_hash = md5(payload_hash)"
        )
        with pytest.raises(SyncRefused) as refused:
            sync(con, "crm")
        message = str(refused.value)
        assert (
            f"audience crm: holds {contacts}, would change {contacts} (100%, "
            "limit max_change_share 90%)" in message
        )
        assert "--force" in message and "raise the setting" in message
        assert refused.value.run.status == "refused"
        assert crm_rows(warehouse.crm, crm_scores) == before  # nothing sent
        forced = sync(con, "crm", force=True)
        assert forced.changed == contacts


def test_a_small_list_emptied_is_refused_unless_forced(warehouse, api, con):
    """A list of 5 to 19 members: under the old floor of 20 it could be emptied unforced."""
    state, _ = api
    forget(con, "marketing_lists")
    sync(con, "marketing_lists")
    segment, members = email_list(con, "count(*) between 5 and 19", smallest=True)
    with saved(con, "export_audience_members"):
        con.execute(f"delete from marts.export_audience_members where segment_id = '{segment}'")
        with pytest.raises(
            SyncRefused,
            match=rf"audience {segment}: holds {members}, would remove {members} \(100%",
        ):
            sync(con, "marketing_lists")
        assert state.removes == {}
        forced = sync(con, "marketing_lists", force=True)
        assert forced.removed == members and not state.lists.get(segment)


class Killed:
    """A destination whose process is killed (KeyboardInterrupt) during its second batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def send(self, changes):
        self.batches.append(len(changes))
        if len(self.batches) == 2:
            raise KeyboardInterrupt
        return Delivery(acked=[c.record_key for c in changes])

    def finish(self, state) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_killed_sync_is_marked_interrupted_by_the_next_run(warehouse, api, con):
    forget(con, "marketing_lists")
    config = dataclasses.replace(load_config()["marketing_lists"], batch_size=10)
    killed_destination = Killed()
    with pytest.raises(KeyboardInterrupt):
        sync_destination(con, config, killed_destination, as_of=AS_OF)
    (killed,) = con.query(
        "select run_id from sync_state.sync_runs where destination = 'marketing_lists' "
        "and status = 'running'"
    )[0]
    # what the first batch delivered is recorded
    assert con.query(
        "select count(*) from sync_state.delivered where destination = 'marketing_lists'"
    ) == [(killed_destination.batches[0],)]

    again = sync(con, "marketing_lists")
    assert again.status == "success" and again.interrupted == [killed]
    assert f"earlier run {killed} found interrupted" in again.format_line()
    assert con.query(
        f"select status, message from sync_state.sync_runs where run_id = '{killed}'"
    ) == [("interrupted", INTERRUPTED_MESSAGE)]
    assert con.query(
        f"select status, finished_at is not null from sync_state.sync_runs "
        f"where run_id = '{again.run_id}'"
    ) == [("success", True)]


def test_one_failing_destination_does_not_stop_the_others(warehouse, api, con):
    """The lists API is down (a delivery failure) and the lead-routing webhook rejects every
    notification: each is reported with its reason, and the ad files are still written."""
    _, server = api
    forget(con, "marketing_lists")
    forget(con, "ad_audiences")
    forget(con, "lead_routing")
    down = Server(ApiState())
    down.close()  # nothing listens there any more
    with environment(
        AUDIENCE_LISTS_API_URL=down.url, AUDIENCE_ROUTING_WEBHOOK_URL=f"{server.url}/missing"
    ):
        runs = run_syncs(con, ["marketing_lists", "lead_routing", "ad_audiences"], as_of=AS_OF)
    by_name = {r.destination: r for r in runs}
    assert [r.destination for r in runs] == ["marketing_lists", "lead_routing", "ad_audiences"]
    lists = by_name["marketing_lists"]
    assert lists.status == "failed" and lists.retryable
    assert "delivery failed after 0 records were acknowledged" in lists.message
    routing = by_name["lead_routing"]
    assert routing.status == "failed" and routing.sent == 0 and routing.failed > 0
    assert not routing.retryable and "records rejected (e.g." in routing.message
    assert set(routing.rejections.values()) == {"HTTP 404"}
    assert by_name["ad_audiences"].status == "success" and by_name["ad_audiences"].added > 0
    logged = dict(
        con.query(
            "select destination, status from sync_state.sync_runs where run_id in "
            f"({', '.join(repr(r.run_id) for r in runs)})"
        )
    )
    assert logged == {
        "marketing_lists": "failed",
        "lead_routing": "failed",
        "ad_audiences": "success",
    }


def test_an_unopenable_destination_is_a_failed_run_and_the_rest_go_on(warehouse, con, monkeypatch):
    forget(con, "ad_audiences")
    monkeypatch.delenv("AUDIENCE_CRM_DATABASE")
    crm, ads = run_syncs(con, ["crm", "ad_audiences"], as_of=AS_OF)
    assert crm.status == "failed" and "set AUDIENCE_CRM_DATABASE" in crm.message
    assert ads.status == "success"


def test_an_unexpected_error_in_one_sync_is_its_failure_alone(warehouse, api, con, monkeypatch):
    import audience.syncs.runs as runs  # where sync_destination looks the diff up

    real_diff = runs.diff

    def broken_diff(warehouse, config):
        if config.name == "marketing_lists":
            raise RuntimeError("disk full")
        return real_diff(warehouse, config)

    monkeypatch.setattr(runs, "diff", broken_diff)
    forget(con, "ad_audiences")
    lists, ads = run_syncs(con, ["marketing_lists", "ad_audiences"], as_of=AS_OF)
    assert lists.status == "failed"
    assert lists.message == "before sending: RuntimeError: disk full"
    assert con.query(
        f"select status from sync_state.sync_runs where run_id = '{lists.run_id}'"
    ) == [("failed",)]
    assert ads.status == "success"


def test_crm_edits_flow_back_into_raw_and_win_at_the_next_build(warehouse):
    connection = DuckDBWarehouse(warehouse.path)
    try:
        forget(connection, "crm")
        sync(connection, "crm")
        contact_key, crm_id = connection.query(
            "select contact_key, crm_contact_id from marts.export_crm_contacts "
            "where crm_reach = 'reachable' order by contact_key desc limit 1"
        )[0]
        raw_before = connection.query("select count(*) from raw.crm_contacts")[0][0]
    finally:
        connection.close()
    # a sales rep edits the contact in the CRM (before the as_of of the next build)
    crm = psycopg2.connect(**postgres_params(warehouse.crm))
    with crm, crm.cursor() as cur:
        cur.execute(
            "update crm_contacts set owner_id = 'owner-from-crm', persona = 'decision_maker', "
            "lifecycle_stage = 'opportunity', updated_at = '2026-06-29 12:00' "
            "where contact_id = %s",
            (crm_id,),
        )
    crm.close()

    connection = DuckDBWarehouse(warehouse.path)
    try:
        config = load_config()["crm"]
        first = pull_crm_changes(connection, config)
        again = pull_crm_changes(connection, config)  # nothing new since the watermark
        raw_after = connection.query("select count(*) from raw.crm_contacts")[0][0]
        written = connection.query(
            "select owner_id, persona, lifecycle_stage, updated_at from raw.crm_contacts "
            "where _source_file like 'crm-sync:crm:%'"
        )
    finally:
        connection.close()
    assert (first.pulled, first.written, again.pulled) == (1, 1, 0)
    assert raw_after == raw_before + 1
    assert written == [("owner-from-crm", "decision_maker", "opportunity", "2026-06-29 12:00:00")]

    run_dbt(["run", "--select", "base_crm__contacts+"], target="duckdb", as_of=AS_OF)
    assert warehouse.query(
        f"select owner_id from marts.contacts where contact_key = '{contact_key}'"
    ) == [("owner-from-crm",)]
    assert warehouse.query(
        "select persona, crm_lifecycle_stage from intermediate.int_contact_profiles "
        f"where contact_key = '{contact_key}'"
    ) == [("decision_maker", "opportunity")]
