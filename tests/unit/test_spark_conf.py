"""The Spark session the loader starts and the one dbt-spark starts are configured alike:
`audience.spark.spark_conf()` mirrors the spark output of profiles.yml."""

from __future__ import annotations

import os

import jinja2
import pytest
import yaml

from audience.project import project_dir
from audience.spark import spark_conf


def _profile_parameters() -> dict[str, str]:
    profile = yaml.safe_load((project_dir() / "profiles.yml").read_text())
    parameters = profile["audience"]["outputs"]["spark"]["server_side_parameters"]

    def env_var(name: str, default: str = "") -> str:
        return os.environ.get(name, default)

    environment = jinja2.Environment()
    return {
        key: environment.from_string(str(value)).render(env_var=env_var)
        for key, value in parameters.items()
    }


@pytest.mark.parametrize("warehouse", ["/srv/spark-warehouse", "relative/spark"])
def test_session_conf_matches_the_profile(monkeypatch, warehouse):
    monkeypatch.setenv("AUDIENCE_SPARK_WAREHOUSE", warehouse)
    monkeypatch.setenv("AUDIENCE_SPARK_SHUFFLE_PARTITIONS", "7")
    expected = spark_conf()
    # the Python side resolves the folder to an absolute path (run_dbt pins the variable to it)
    monkeypatch.setenv("AUDIENCE_SPARK_WAREHOUSE", expected["spark.sql.warehouse.dir"])
    profile = _profile_parameters()
    # dbt-spark forces ANSI mode off itself; the profile need not say so
    profile.setdefault("spark.sql.ansi.enabled", "false")
    assert profile == expected
    assert expected["spark.sql.shuffle.partitions"] == "7"


def test_the_warehouse_folder_is_absolute(monkeypatch):
    monkeypatch.setenv("AUDIENCE_SPARK_WAREHOUSE", "relative/spark")
    assert os.path.isabs(spark_conf()["spark.sql.warehouse.dir"])
