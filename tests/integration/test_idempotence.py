"""Nothing is lost: any sequence of loads and builds equals a clean replay of it.

The property: whatever a user, a schedule or a crash does — load a folder, load it again,
load an overlapping file, `load --replace`, build as of an instant later than, equal to or
before the last one, rerun, kill a build or a load partway and rerun — every relation a
build writes (staging, intermediate, segments, marts, exports, history snapshots) equals,
row for row, a clean replay on a fresh warehouse: the same loads, and each build from
scratch (every incremental model rebuilt from raw), a rerun of the same build skipped, the
killed operations left out. Hypothesis' rule-based state machine draws the sequences on
small generated data (tests/deliveries.py), on DuckDB and PostgreSQL; the counter-examples
it found are kept as plain tests in test_reruns.py.

`AUDIENCE_PROPERTY_EXAMPLES=50 pytest tests/integration/test_idempotence.py` explores more
(and at random) than the bounded, reproducible run CI does.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from deliveries import INSTANTS, assert_equals_clean_replay, describe, make_deliveries
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from lab import lab

pytestmark = pytest.mark.slow

#: how a folder is loaded: once more (a re-load when it was loaded before), with --replace,
#: or by a load that dies partway
LOADS = ["load", "replace", "killed partway"]
#: bounded for CI; AUDIENCE_PROPERTY_EXAMPLES asks for more (and drops derandomize)
EXAMPLES = int(os.environ.get("AUDIENCE_PROPERTY_EXAMPLES", "0"))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_deliveries(tmp_path_factory.mktemp("deliveries"))


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
                    print(f"\nexample: {describe(self.lab)}", flush=True)
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
