"""Shared warehouses: each is loaded and built once per test session (dbt in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from warehouses import (
    FIXTURES,
    GENERATED_DAYS,
    TINY_AS_OF,
    BuiltWarehouse,
    GeneratedWarehouse,
    build_days,
    build_warehouse,
    environment,
    postgres_database,
)


def pytest_configure(config: pytest.Config) -> None:
    """Parallel workers (`pytest -n`, see the Makefile) run dbt in-process side by side: each
    gets its own dbt target and log folders, so no two write the same partial parse file,
    manifest or log."""
    import os

    from audience.project import project_dir

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # the tests' dbt artifacts stay out of target/, which `mf query` reads from the project
    # root: each worker has its folder, a run without workers `main`
    os.environ["DBT_TARGET_PATH"] = str(project_dir() / "target" / "workers" / (worker or "main"))
    os.environ["DBT_LOG_PATH"] = str(project_dir() / "logs" / "workers" / (worker or "main"))
    if worker:
        # a worker runs as `python -c`: its __main__ has no file, which pyspark (installed by
        # `make install-spark`, imported by Great Expectations) takes for a doctest run and
        # answers with sys.exit(0)
        import sys

        main = sys.modules["__main__"]
        if getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
            main.__file__ = f"<pytest-xdist {worker}>"


#: the longest modules (minutes, measured), started first: the parallel workers take whole
#: modules in this order (`--no-loadscope-reorder`), so no long one starts last and leaves the
#: other workers idle while it runs
LONGEST_FIRST = (
    "test_idempotence",
    "test_reruns",
    "test_orchestration_realtime",
    "test_orchestration",
    "test_membership_history",
    "test_build_gates",
    "test_segment_source",
    "test_rudderstack_source",
    "test_checks",
    "test_web_sources",
    "test_vendor_crm",
    "test_report",
    "test_incremental",
    "test_sync_faults",
    "test_forget",
    "test_segments_planted",
    "test_segment_lift",
    "test_backtest",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture
def pg_database() -> Iterator[str]:
    with postgres_database() as name:
        yield name


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def tiny_warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltWarehouse]:
    """The hand-made fixture of tests/fixtures/tiny, built as of 2026-06-30 on each target."""
    if request.param == "duckdb":
        path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
        yield build_warehouse("duckdb", FIXTURES / "tiny", TINY_AS_OF, path=path)
        return
    with postgres_database() as database:
        yield build_warehouse("postgres", FIXTURES / "tiny", TINY_AS_OF, database=database)


@pytest.fixture(scope="session")
def generated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> GeneratedWarehouse:
    """Demo data from the generator (400 people, seed 11), loaded and built on DuckDB."""
    import json

    from audience.generator import generate

    root = tmp_path_factory.mktemp("generated")
    as_of = datetime(2026, 6, 30)
    generate(root / "data", people=400, seed=11, as_of=as_of)
    built = build_warehouse("duckdb", root / "data", as_of, path=root / "gen.duckdb")
    manifest = json.loads((root / "data" / "_manifest.json").read_text())
    return GeneratedWarehouse(
        built.target, built.data_dir, built.as_of, path=built.path, manifest=manifest
    )


@pytest.fixture(scope="session")
def generated_history(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """Demo data (150 people, seed 9) built on each of GENERATED_DAYS, on DuckDB: a membership
    history of four builds (see `build_days` for what it returns)."""
    from audience.generator import generate

    root = tmp_path_factory.mktemp("generated_history")
    generate(root / "data", people=150, seed=9, as_of=datetime(2026, 6, 30))
    return build_days(root, folders=[root / "data"], days=GENERATED_DAYS)


#: test modules that build vendor sources: their adapters are on; every other module builds
#: contract-only warehouses with the adapters off (macros/sources/source_adapters.sql), which
#: spares their views and tests in each build; the catalog's lineage covers every source, so
#: its module sees the adapters too, and so does the one running every dbt unit test
ADAPTER_MODULES = ("vendor", "source", "cdp", "rudderstack", "catalog", "dbt_unit_tests")


@pytest.fixture(scope="module", autouse=True)
def vendor_adapters(request: pytest.FixtureRequest) -> Iterator[None]:
    on = any(part in request.module.__name__ for part in ADAPTER_MODULES)
    with environment(AUDIENCE_VENDOR_ADAPTERS="on" if on else "off"):
        yield
