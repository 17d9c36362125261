"""Nothing is lost: any sequence of loads and builds equals a clean replay of it.

The property: whatever a user, a schedule or a crash does — load a folder, load it again,
load an overlapping file, `load --replace`, build as of an instant later than, equal to or
before the last one, rerun, kill a build or a load partway and rerun — every relation a
build writes (staging, intermediate, segments, marts, exports, history snapshots) equals,
row for row, a clean replay on a fresh warehouse: the same loads, and each build from
scratch (every incremental model rebuilt from raw), a rerun of the same build skipped, the
killed operations left out. Hypothesis' rule-based state machine draws the sequences on
small generated data, on DuckDB and PostgreSQL; the counter-examples it found are kept
below as plain tests.

`AUDIENCE_PROPERTY_EXAMPLES=50 pytest tests/integration/test_idempotence.py` explores more
(and at random) than the bounded, reproducible run CI does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from lab import Lab, clean_replay, lab
from warehouse_state import differences
from warehouses import environment

from audience.generator import generate

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
#: the split of the event streams between the two deliveries
SPLIT = "2026-06-15"
#: build instants: daily builds, and one ten minutes after midnight (a realtime build)
INSTANTS = [
    datetime(2026, 6, 12),
    datetime(2026, 6, 19),
    datetime(2026, 6, 19, 0, 10),
    datetime(2026, 6, 26),
]
EVENT_TABLES = ("pages", "tracks", "identifies", "email_events")
#: how a folder is loaded: once more (a re-load when it was loaded before), with --replace,
#: or by a load that dies partway
LOADS = ["load", "replace", "killed partway"]
#: bounded for CI; AUDIENCE_PROPERTY_EXAMPLES asks for more (and drops derandomize)
EXAMPLES = int(os.environ.get("AUDIENCE_PROPERTY_EXAMPLES", "0"))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated data (60 people) delivered as the deliveries of a real pipeline: `early`
    (every table, the events before SPLIT), `late` (the events after it) and `overlap`
    (pages and tracks around SPLIT: some rows already delivered, each in a file of its own)."""
    root = tmp_path_factory.mktemp("deliveries")
    generate(root / "all", people=60, seed=5, as_of=AS_OF, days=90)
    before = f"coalesce(try_cast(\"timestamp\" as timestamp) < timestamp '{SPLIT}', true)"
    around = (
        "try_cast(\"timestamp\" as timestamp) between timestamp '2026-06-08' "
        "and timestamp '2026-06-22'"
    )
    plan = {
        "early": {table: before if table in EVENT_TABLES else "true" for table in _tables(root)},
        "late": {table: f"not {before}" for table in EVENT_TABLES},
        "overlap": {"pages": around, "tracks": around},
    }
    con = duckdb.connect()
    for folder, tables in plan.items():
        (root / folder).mkdir()
        for table, where in tables.items():
            source = str(root / "all" / f"{table}.parquet")
            target = str(root / folder / f"{table}.parquet")
            con.execute(
                f"copy (select * from read_parquet('{source}') where {where}) "
                f"to '{target}' (format parquet)"
            )
    con.close()
    return {name: root / name for name in plan}


def _tables(root: Path) -> list[str]:
    return sorted(path.stem for path in (root / "all").glob("*.parquet"))


def assert_equals_clean_replay(actual: Lab, root: Path, name: str = "replay") -> None:
    """The warehouse equals a clean replay of what was done to it."""
    with lab(actual.target, root, name) as reference:
        clean_replay(actual.done, reference)
        expected = reference.capture()
    found = differences(actual.capture(), expected)
    assert not found, (
        "differs from a clean replay of " + _describe(actual) + ":\n" + "\n".join(found)
    )


def _describe(actual: Lab) -> str:
    return ", ".join(
        f"load {op.folder.name}{' --replace' if op.replace else ''}"
        if op.kind == "load" and op.folder is not None
        else f"build {op.as_of}"
        for op in actual.done
    )


# --- the property ------------------------------------------------------------------------


def operations_machine(
    target: str, folders: dict[str, Path], root: Path
) -> type[RuleBasedStateMachine]:
    class Operations(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.stack = ExitStack()
            self.lab = self.stack.enter_context(lab(target, root, "actual"))

        @initialize()
        def first_delivery(self) -> None:
            self.lab.load(folders["early"])

        @rule(folder=st.sampled_from(sorted(folders)), how=st.sampled_from(LOADS))
        def load(self, folder: str, how: str) -> None:
            if how == "killed partway":
                held = self.lab.raw_rows()
                # dies after 0-2 tables (or completes, when it had fewer to write)
                if self.lab.load_killed_partway(folders[folder], after_tables=len(folder) % 3):
                    assert self.lab.raw_rows() == held, "a failed load changed the raw tables"
                return
            self.lab.load(folders[folder], replace=how == "replace")

        @rule(as_of=st.sampled_from(INSTANTS))
        def build(self, as_of: datetime) -> None:
            self.lab.build(as_of)
            self.lab.assert_no_raw_row_lost()

        @rule(as_of=st.sampled_from(INSTANTS), share=st.sampled_from([0.15, 0.5, 0.85]))
        def build_killed_then_rerun(self, as_of: datetime, share: float) -> None:
            self.lab.killed_build(as_of, share)
            self.lab.build(as_of)

        def teardown(self) -> None:
            try:
                if not any(op.kind == "build" for op in self.lab.done):
                    self.lab.build(INSTANTS[-1])
                if os.environ.get("AUDIENCE_PROPERTY_VERBOSE"):
                    print(f"\nexample: {_describe(self.lab)}", flush=True)
                assert_equals_clean_replay(self.lab, root)
            finally:
                self.stack.close()

    return Operations


@pytest.mark.parametrize(
    ("target", "examples"),
    [("duckdb", 4), pytest.param("postgres", 2, marks=pytest.mark.postgres)],
)
def test_any_sequence_of_operations_equals_a_clean_replay(
    target: str, examples: int, folders: dict[str, Path], tmp_path: Path
) -> None:
    machine = operations_machine(target, folders, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES or examples,
            stateful_step_count=6,
            deadline=None,
            derandomize=not EXAMPLES,
            # shrinking costs a build per try: CI prints the sequence as found
            phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if EXAMPLES else []),
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        ),
    )


# --- the counter-examples, kept -----------------------------------------------------------

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
