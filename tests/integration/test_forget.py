"""`audience forget`: a deletion request takes the person out of every mart and export at the
next build, every destination that holds them removes them at the next sync, and they stay
out when their data is loaded again.

On the tiny fixture: John Smith (JSmith@gmail.com in the CRM, j.smith@googlemail.com on the
web: one person) is a customer in the lists and the ad audiences; he is forgotten by the
CRM's spelling of his address.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from warehouses import (
    DAILY_BUILD,
    FIXTURES,
    TINY_AS_OF,
    BuiltWarehouse,
    build_warehouse,
    environment,
)

from audience.checks import CheckResult, CheckRun, load_suites, record, run_checks
from audience.cli import main
from audience.dbt import run_dbt
from audience.devservers import ApiState, Server
from audience.loader import load_dir
from audience.project import duckdb_path
from audience.syncs import SyncRun, load_config, open_destination, sync_destination
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

#: John's identifiers as the raw data carries them
JOHN = {"user_id": "u2", "anonymous_id": "a5", "crm_contact_id": "K2"}
JOHN_EMAILS = ("jsmith@gmail.com", "j.smith@googlemail.com")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BuiltWarehouse, Path]]:
    """The tiny fixture (copied: a later load adds a file to it), built and checked."""
    root = tmp_path_factory.mktemp("forget")
    data = root / "data"
    shutil.copytree(FIXTURES / "tiny", data)
    path = root / "forget.duckdb"
    with environment(
        AUDIENCE_DUCKDB_PATH=str(path),
        AUDIENCE_OUTPUT_DIR=str(root / "output"),
        AUDIENCE_AD_FILES_DIR=str(root / "ads"),
    ):
        built = build_warehouse("duckdb", data, TINY_AS_OF, path=path)
        check(root)
        yield built, root


def sync(name: str) -> SyncRun:
    """One run of a destination of syncs.yml on the module's warehouse."""
    config = load_config()[name]
    destination = open_destination(config)
    con = DuckDBWarehouse(duckdb_path())
    try:
        return sync_destination(con, config, destination, as_of=TINY_AS_OF)
    finally:
        destination.close()
        con.close()


def check(root: Path) -> None:
    """The quality gates the syncs require. The tiny fixture's CRM export is a month old by
    design, so its raw freshness is recorded as passed: freshness is not what this module is
    about, and every other suite runs."""
    suites = [suite for suite in load_suites() if suite.name != "raw_freshness"]
    run = run_checks("duckdb", TINY_AS_OF, out=root / "output", suites=suites)
    assert run.success, [failure.message for failure in run.failures]
    fresh = CheckRun(uuid.uuid4().hex[:16], "duckdb", "2026-06-30 00:00:00", str(datetime.now()))
    fresh.results = [
        CheckResult("raw_freshness", "e", None, "critical", True, "tiny is old by design", "")
    ]
    con = DuckDBWarehouse(duckdb_path())
    try:
        record(con, fresh)
    finally:
        con.close()


def rebuild(root: Path) -> None:
    run_dbt(DAILY_BUILD, target="duckdb", as_of=TINY_AS_OF)
    check(root)


def traces(warehouse: BuiltWarehouse, contact_key: str) -> dict[str, int]:
    """Where the person still is: rows naming their contact key or an identifier of theirs."""
    ids = ", ".join(f"'{v}'" for v in (*JOHN.values(), *JOHN_EMAILS))
    by_key = f"contact_key = '{contact_key}'"
    checks = {
        "identity_map": f"identifier in ({ids}) or {by_key}",
        "contacts": f"{by_key} or lower(primary_email) in ({ids})",
        "segment_membership": by_key,
        "export_audience_members": f"{by_key} or email in ({ids})",
        "export_crm_contacts": f"{by_key} or crm_contact_id in ({ids})",
        "export_lead_notifications": by_key,
        "identity_merge_audit": f"{by_key} or identifier_a in ({ids}) or identifier_b in ({ids})",
        "email_group_unsubscribes": by_key,
    }
    found = {
        table: warehouse.scalar(f"select count(*) from marts.{table} where {where}")
        for table, where in checks.items()
    }
    found["int_events_unified"] = warehouse.scalar(
        "select count(*) from intermediate.int_events_unified "
        f"where {by_key} or user_id in ({ids}) or anonymous_id in ({ids}) or email in ({ids})"
    )
    return {table: count for table, count in found.items() if count}


def hashes(folder: Path) -> set[str]:
    found: set[str] = set()
    # platform/audience/file: the newest file of each audience (older ones are removed)
    for file in folder.glob("*/*/*.csv"):
        with file.open() as handle:
            found |= {row["email_sha256"] for row in csv.DictReader(handle)}
    return found


def test_a_forgotten_person_leaves_the_marts_and_every_destination(tiny):
    warehouse, root = tiny
    john = warehouse.scalar("select contact_key from marts.identity_map where identifier = 'u2'")
    lists = {
        row[0]
        for row in warehouse.query(
            f"select segment_id from marts.export_audience_members where contact_key = '{john}' "
            "and email_reach = 'reachable'"
        )
    }
    assert lists, "John is in some list to begin with"
    email = warehouse.scalar(
        f"select primary_email from marts.contacts where contact_key = '{john}'"
    )
    state = ApiState()
    server = Server(state)
    try:
        with environment(AUDIENCE_LISTS_API_URL=server.url):
            assert sync("marketing_lists").status == "success"
            assert sync("ad_audiences").status == "success"
            assert {s for s, members in state.lists.items() if email in members} == lists
            sha = hashlib.sha256(email.encode()).hexdigest()
            assert sha in hashes(root / "ads")

            # the request, by another spelling of the address than the one the lists hold
            assert main(["forget", "JSmith@gmail.com"]) == 0
            recorded = warehouse.query(
                "select identifier_type, identifier from privacy.deletion_requests"
            )
            assert ("crm_contact_id", "K2") in recorded and ("user_id", "u2") in recorded
            rebuild(root)
            assert traces(warehouse, john) == {}
            assert warehouse.query(
                "select channel from marts.contact_suppressions "
                f"where contact_key = '{john}' and reason = 'deletion_request' order by 1"
            ) == [("ads",), ("crm",), ("email",)]

            # every destination that holds him removes him
            removed = sync("marketing_lists")
            assert (removed.status, removed.added) == ("success", 0)
            assert all(email not in members for members in state.lists.values())
            assert {key for key in state.removes if key[1] == email} == {(s, email) for s in lists}
            # others may leave with him, never join: a lookalike is compared with the customers
            # of its kind, and he was one of them
            assert removed.removed == sum(state.removes.values()) >= len(lists)
            assert sync("ad_audiences").removed >= 1
            assert sha not in hashes(root / "ads")

            # a later load brings his data back: the same files again and new events
            later = warehouse.data_dir / "tracks_20260629.csv"
            with later.open("w") as handle:
                handle.write(
                    "id,anonymous_id,user_id,event,timestamp,received_at,properties\n"
                    "t_back_1,a5,u2,ORDER COMPLETED,2026-06-29T10:00:00Z,"
                    '2026-06-29T10:00:01Z,"{""order_id"": ""o9"", ""revenue"": 20}"\n'
                )
            loader = DuckDBWarehouse(warehouse.path)
            try:
                load_dir(warehouse.data_dir, loader, replace=True)
            finally:
                loader.close()
            assert warehouse.scalar("select count(*) from raw.tracks where user_id = 'u2'") >= 2
            rebuild(root)
            assert traces(warehouse, john) == {}
            again = sync("marketing_lists")
            assert (again.added, again.removed) == (0, 0)
    finally:
        server.close()
