"""Two processes on one DuckDB file: the second gets a clear error naming the holder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from warehouses import FIXTURES, environment

from audience import cli
from audience.dbt import DbtError, run_dbt
from audience.warehouse import DuckDBWarehouse, WarehouseBusy, duckdb_lock_conflict

HOLD = (
    "import sys, time, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('create table if not exists held (a integer)')\n"
    "print('holding', flush=True)\n"
    "time.sleep(120)\n"
)


@pytest.fixture
def held_file(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A DuckDB file a second process holds open for writing; (path, its PID)."""
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield path, holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=10)


def expected_message(path: Path, pid: int) -> str:
    return f"the DuckDB warehouse {path} is in use by another process (PID {pid}, "


def test_connecting_names_the_file_and_the_process_holding_it(held_file):
    path, pid = held_file
    with pytest.raises(WarehouseBusy) as error:
        DuckDBWarehouse(path)
    assert error.value.pid == pid and error.value.path == str(path)
    message = str(error.value)
    assert message.startswith(expected_message(path, pid))
    assert "wait for that process to finish" in message and "close the program" in message


def test_the_cli_prints_it_and_exits_2(held_file, tmp_path, capsys):
    path, pid = held_file
    with environment(AUDIENCE_DUCKDB_PATH=str(path)):
        assert cli.main(["-q", "load", str(FIXTURES / "tiny")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: " + expected_message(path, pid))


def test_dbt_reports_it_the_same_way(held_file):
    path, pid = held_file
    with environment(AUDIENCE_DUCKDB_PATH=str(path)), pytest.raises(DbtError) as error:
        run_dbt(
            ["run", "--select", "stg_segment__pages"],
            target="duckdb",
            as_of=datetime(2026, 6, 30),
        )
    message = str(error.value)
    assert message.startswith("dbt run --select stg_segment__pages could not open the warehouse: ")
    assert expected_message(path, pid) in message


def test_lock_messages_of_other_duckdb_versions_are_read_too():
    older = (
        'IO Error: Could not set lock on file "/w/a.duckdb": Conflicting lock is held in '
        "/usr/bin/python3 by user ann (PID 42). See also https://duckdb.org/docs/"
    )
    busy = duckdb_lock_conflict(older)
    assert busy is not None and (busy.path, busy.pid, busy.program) == (
        "/w/a.duckdb",
        42,
        "/usr/bin/python3",
    )
    assert duckdb_lock_conflict("IO Error: No space left on device") is None
