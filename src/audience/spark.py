"""The in-process Spark session of the `spark` target (dbt-spark's session method).

dbt-spark creates its session with `SparkSession.builder.enableHiveSupport()` and the
profile's `server_side_parameters`; the loader and the tests need the same session before
or after dbt runs, so both read one configuration: `spark_conf()` mirrors the parameters in
profiles.yml (a unit test keeps the two equal). Whichever asks first starts the JVM; later
`getOrCreate()` calls in the process get that same session.

Only the session method needs this module: on a cluster (thrift or http) dbt connects to
the cluster's own metastore and the raw tables are landed there by the cluster's tooling.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from audience.project import project_dir

#: Shuffle partitions: Spark's default of 200 makes every small join 200 tasks.
DEFAULT_SHUFFLE_PARTITIONS = "4"
DEFAULT_DRIVER_MEMORY = "4g"


def spark_warehouse_dir() -> Path:
    """Where the session keeps its tables and its Derby metastore: AUDIENCE_SPARK_WAREHOUSE,
    else warehouse/spark."""
    configured = os.environ.get("AUDIENCE_SPARK_WAREHOUSE")
    path = Path(configured) if configured else project_dir() / "warehouse" / "spark"
    return path.resolve()


def spark_conf() -> dict[str, str]:
    """The session's configuration, as profiles.yml's `spark` output sets it."""
    warehouse = spark_warehouse_dir()
    return {
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true"
        ),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get(
            "AUDIENCE_SPARK_SHUFFLE_PARTITIONS", DEFAULT_SHUFFLE_PARTITIONS
        ),
        "spark.driver.memory": os.environ.get(
            "AUDIENCE_SPARK_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY
        ),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.hive.metastorePartitionPruningFallbackOnException": "true",
        # dbt-spark turns ANSI mode off for every session: a bad cast is null, not an error
        "spark.sql.ansi.enabled": "false",
    }


def pin_environment() -> None:
    """Point profiles.yml at the same absolute warehouse folder as `spark_conf()`, whatever
    the working directory (Derby resolves a relative database name against it)."""
    os.environ["AUDIENCE_SPARK_WAREHOUSE"] = str(spark_warehouse_dir())


def spark_session() -> Any:
    """The process's Spark session, started with `spark_conf()` if none runs yet."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the optional dependency group
        raise RuntimeError(
            "the spark target needs dbt-spark and pyspark: `uv sync --group spark` "
            "(or `make install-spark`), and a Java 17 runtime"
        ) from exc

    pin_environment()
    spark_warehouse_dir().mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # Spark's WARN lines (metastore settings, task sizes) are noise in a command's output
    session.sparkContext.setLogLevel(os.environ.get("AUDIENCE_SPARK_LOG_LEVEL", "ERROR"))
    return session
