"""The Dagster raw step with bad files: the good files are loaded and materialized, then the
step fails, naming each bad file, and is not retried."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import dagster as dg
import pytest
from warehouses import environment

from audience.project import project_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

TINY = Path(__file__).parents[1] / "fixtures" / "tiny"


def test_bad_files_fail_the_raw_step_after_the_good_ones_load(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(TINY / "pages.csv", landing / "pages.csv")
    (landing / "tracks.parquet").write_bytes(b"PAR1")
    path = tmp_path / "wh.duckdb"
    with environment(
        AUDIENCE_DUCKDB_PATH=str(path),
        AUDIENCE_LANDING_DIR=str(landing),
        AUDIENCE_OUTPUT_DIR=str(tmp_path / "output"),
    ):
        spec = importlib.util.spec_from_file_location(
            "audience_definitions_bad_files", project_dir() / "orchestration" / "definitions.py"
        )
        assert spec and spec.loader
        definitions = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(definitions)
        result = dg.materialize(
            [definitions.raw_tables],
            partition_key="2026-06-29",
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    assert not result.success
    materialized = {
        event.asset_key.to_user_string(): event.materialization.metadata["rows"].value
        for event in result.get_asset_materialization_events()
    }
    assert materialized["segment/pages"] == 13
    assert materialized["segment/tracks"] == 0
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert failure is not None and "tracks.parquet: not a valid parquet file" in failure.description
    warehouse = DuckDBWarehouse(path)
    try:
        assert warehouse.query("select count(*) from raw.pages") == [(13,)]
    finally:
        warehouse.close()
