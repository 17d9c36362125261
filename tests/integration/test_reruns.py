"""Nothing is lost, the cases kept: the sequences the property of test_idempotence.py found
(run twice, replace and rerun, a killed build, realtime then daily then backfill, overlapping
deliveries), a rerun at the same instant, a backfill, and a real `kill -9` of `audience run`
halfway through its build; each equals a clean replay of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from deliveries import INSTANTS, assert_equals_clean_replay, make_deliveries
from lab import Lab, lab
from warehouse_state import differences
from warehouses import environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_deliveries(tmp_path_factory.mktemp("deliveries"))


Steps = list[Callable[[Lab, dict[str, Path]], None]]


def _load(name: str, replace: bool = False) -> Callable[[Lab, dict[str, Path]], None]:
    return lambda lab_, folders: lab_.load(folders[name], replace=replace)


def _build(as_of: datetime) -> Callable[[Lab, dict[str, Path]], None]:
    return lambda lab_, folders: lab_.build(as_of)


def _killed(as_of: datetime, share: float) -> Callable[[Lab, dict[str, Path]], None]:
    def step(lab_: Lab, folders: dict[str, Path]) -> None:
        lab_.killed_build(as_of, share)
        lab_.build(as_of)

    return step


SEQUENCES: dict[str, Steps] = {
    # `audience run` twice: the second build marked every accepted event a duplicate
    "run twice": [_load("early"), _build(INSTANTS[1]), _load("early"), _build(INSTANTS[1])],
    # `load --replace` and a rerun
    "replace and rerun": [
        _load("early", replace=True),
        _build(INSTANTS[1]),
        _load("early", replace=True),
        _build(INSTANTS[1]),
    ],
    # kill -9 halfway through a build, then the rerun
    "killed build": [_load("early"), _load("late"), _killed(INSTANTS[3], 0.5)],
    # a realtime build at 00:10, then the daily build as of 00:00, then a backfill
    "realtime then daily then backfill": [
        _load("early"),
        _load("late"),
        _build(INSTANTS[2]),
        _build(INSTANTS[1]),
        _build(INSTANTS[0]),
        _build(INSTANTS[3]),
    ],
    # overlapping deliveries: rows delivered twice, in different files
    "overlap": [
        _load("early"),
        _build(INSTANTS[0]),
        _load("overlap"),
        _load("late"),
        _build(INSTANTS[1]),
        _load("overlap"),
        _build(INSTANTS[1]),
    ],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_kept_sequence_equals_a_clean_replay(
    name: str, folders: dict[str, Path], tmp_path: Path
) -> None:
    with lab("duckdb", tmp_path, "actual") as actual:
        for step in SEQUENCES[name]:
            step(actual, folders)
        actual.assert_no_raw_row_lost()
        assert_equals_clean_replay(actual, tmp_path)


def test_a_rerun_at_the_same_instant_changes_no_history(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    """Before: a rebuild at the same as_of closed hundreds of memberships with
    valid_to = valid_from."""
    with lab("duckdb", tmp_path, "actual") as actual:
        actual.load(folders["early"])
        actual.load(folders["late"])
        actual.build(INSTANTS[0])
        actual.build(INSTANTS[1])
        first = actual.capture()
        actual.build(INSTANTS[1])
        assert not differences(actual.capture(), first)
        with actual.selected():
            empty = actual.warehouse.scalar(
                "select count(*) from snapshots.segment_membership_snapshot "
                "where dbt_valid_to <= dbt_valid_from"
            )
        assert empty == 0


def test_a_backfill_sets_its_instant_and_keeps_the_others(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    """A build before the latest one writes the membership at its instant and leaves the
    history at the other instants as it was: `segment_members_as_of` at each later instant
    answers as before."""
    with lab("duckdb", tmp_path, "actual") as actual:
        actual.load(folders["early"])
        actual.load(folders["late"])
        for as_of in (INSTANTS[0], INSTANTS[3]):
            actual.build(as_of)
        at = _members_at(actual, [INSTANTS[0], INSTANTS[3]])
        actual.build(INSTANTS[1])
        after = _members_at(actual, [INSTANTS[0], INSTANTS[1], INSTANTS[3]])
        assert after[INSTANTS[0]] == at[INSTANTS[0]]
        assert after[INSTANTS[3]] == at[INSTANTS[3]]
        with actual.selected():
            built = set(
                actual.warehouse.query(
                    "select contact_key, segment_id from marts.segment_membership"
                )
            )
        assert after[INSTANTS[1]] == built, "the history at the backfilled instant"
        assert built, "the backfilled build has members"


def _members_at(actual: Lab, instants: list[datetime]) -> dict[datetime, set[tuple]]:
    with actual.selected():
        return {
            at: set(
                actual.warehouse.query(
                    "select contact_key, segment_id from snapshots.segment_membership_snapshot "
                    f"where dbt_valid_from <= timestamp '{at}' "
                    f"and (dbt_valid_to is null or dbt_valid_to > timestamp '{at}')"
                )
            )
            for at in instants
        }


def test_kill_minus_nine_of_a_run_then_rerun(folders: dict[str, Path], tmp_path: Path) -> None:
    """A real `kill -9` of `audience run` halfway through its build, then the rerun."""
    with lab("duckdb", tmp_path, "actual") as actual:
        command = [
            sys.executable,
            "-m",
            "audience.cli",
            "-q",
            "run",
            "--data",
            str(folders["early"]),
            "--as-of",
            str(INSTANTS[1]),
        ]
        output = tmp_path / "output"
        logs = tmp_path / "logs"
        settings = {
            "AUDIENCE_DUCKDB_PATH": str(actual.path),
            "AUDIENCE_OUTPUT_DIR": str(output),
            "DBT_LOG_PATH": str(logs),
        }
        with environment(**settings):
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
            )
            built = _kill_once_built(process, logs / "dbt.log", models=40)
        assert built >= 40, "the run was killed before its build got going"
        # what the killed run managed, then the same run again
        actual.load(folders["early"])
        actual.build(INSTANTS[1])
        actual.assert_no_raw_row_lost()
        assert_equals_clean_replay(actual, tmp_path)


def _kill_once_built(process: subprocess.Popen, log: Path, models: int) -> int:
    """SIGKILL the process once its build has written `models` models (dbt's log says so),
    or after 120 s; return how many it had written."""
    deadline = time.monotonic() + 120
    built = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if log.exists():
            built = log.read_text(errors="replace").count(" OK created ")
            if built >= models:
                break
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return built
