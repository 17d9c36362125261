"""dbt's unit tests: every one, on DuckDB and on PostgreSQL, with every vendor adapter on.

They check the SQL's logic on hand-made rows, never a warehouse's data, so they run here once
per engine instead of in each warehouse's build (the daily build leaves them out too:
audience.dbt.BUILD). dbt reads their input columns from the warehouse, so the models run first,
on the tiny fixture (seeds, models and snapshots, no data tests).
"""

from __future__ import annotations

from collections import Counter

import pytest
from warehouses import (
    FIXTURES,
    TINY_AS_OF,
    environment,
    load_duckdb,
    load_postgres,
    postgres_database,
)

from audience.dbt import run_dbt

MODELS = ["build", "--exclude-resource-type", "test", "unit_test", "--quiet"]
UNIT_TESTS = ["test", "--select", "test_type:unit", "--quiet"]


def unit_tests(target: str) -> tuple[int, Counter]:
    """The project's enabled unit tests, and the statuses of a run of all of them."""
    run_dbt(MODELS, target=target, as_of=TINY_AS_OF)
    result = run_dbt(UNIT_TESTS, target=target, as_of=TINY_AS_OF, check=False)
    ran = [r for r in result.result.results if r.node.resource_type == "unit_test"]
    listed = run_dbt(
        ["ls", "--resource-type", "unit_test", "--output", "name", "--quiet"],
        target=target,
        as_of=TINY_AS_OF,
    )
    return len(listed.result), Counter(str(r.status) for r in ran)


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_unit_test_passes(target, tmp_path):
    if target == "duckdb":
        path = tmp_path / "unit.duckdb"
        with environment(AUDIENCE_DUCKDB_PATH=str(path)):
            load_duckdb(path, FIXTURES / "tiny")
            listed, statuses = unit_tests(target)
    else:
        with postgres_database() as database, environment(PGDATABASE=database):
            load_postgres(database, FIXTURES / "tiny")
            listed, statuses = unit_tests(target)
    # the vendor adapters' unit tests are among them (this module builds with adapters on)
    assert listed > 70
    assert statuses == Counter({"pass": listed})
