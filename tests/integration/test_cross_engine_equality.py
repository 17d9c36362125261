"""The same generated data, built on DuckDB and on PostgreSQL as of the same instant, gives
the same public marts row for row (floating scores within 1e-6)."""

from __future__ import annotations

from datetime import datetime

import pytest
from equality import COMPARED, assert_same_rows
from warehouses import build_warehouse, postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AS_OF = datetime(2026, 6, 30)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from audience.generator import generate

    root = tmp_path_factory.mktemp("equality")
    generate(root / "data", people=300, seed=21, as_of=AS_OF)
    duck = build_warehouse("duckdb", root / "data", AS_OF, path=root / "eq.duckdb")
    with postgres_database() as database:
        pg = build_warehouse("postgres", root / "data", AS_OF, database=database)
        yield duck, pg


@pytest.mark.parametrize("relation", sorted(COMPARED))
def test_same_rows_on_duckdb_and_postgres(both, relation):
    duck, pg = both
    assert_same_rows(duck, pg, relation)
