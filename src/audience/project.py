"""Where the dbt project, the DuckDB file and the run outputs live."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def project_dir() -> Path:
    """The dbt project root (the folder with dbt_project.yml)."""
    configured = os.environ.get("AUDIENCE_PROJECT_DIR")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[2]


def target_dir() -> Path:
    """Where dbt writes its artifacts (manifest, catalog, partial parse): DBT_TARGET_PATH
    (relative to the project) when set, as dbt itself reads it, else target/. Concurrent
    processes (parallel test workers) each set their own, so no two write the same files."""
    configured = os.environ.get("DBT_TARGET_PATH")
    if not configured:
        return project_dir() / "target"
    path = Path(configured)
    return (path if path.is_absolute() else project_dir() / path).resolve()


def duckdb_path() -> Path:
    """The DuckDB warehouse file: AUDIENCE_DUCKDB_PATH, else warehouse/audience.duckdb."""
    configured = os.environ.get("AUDIENCE_DUCKDB_PATH")
    path = Path(configured) if configured else project_dir() / "warehouse" / "audience.duckdb"
    return path.resolve()


def output_dir() -> Path:
    """Where a run writes its summary, demo data and reports: AUDIENCE_OUTPUT_DIR or output/."""
    configured = os.environ.get("AUDIENCE_OUTPUT_DIR")
    return (Path(configured) if configured else project_dir() / "output").resolve()


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables (read by profiles.yml and the CLI) for a while, then put
    back what was there."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
