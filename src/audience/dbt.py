"""Run dbt in-process (dbtRunner) against the project, with the run's target and `as_of`.

In-process runs skip dbt's start-up cost on every call after the first, which keeps the main
job and the test suite fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from audience.progress import DbtProgress, Reporter
from audience.project import duckdb_path, project_dir
from audience.warehouse import duckdb_lock_conflict

AS_OF_FORMAT = "%Y-%m-%d %H:%M:%S"
#: the build of a warehouse: seeds, models, snapshots and their data tests. dbt's unit tests
#: check the SQL's logic on hand-made rows, never the warehouse's data: they answer the same
#: on every build of the same code, so they run where the code changes (`make test`, or
#: `dbt test --select test_type:unit`) and not in every daily or realtime build
BUILD = ("build", "--exclude-resource-type", "unit_test")


class DbtError(RuntimeError):
    """A dbt command failed; the message names the failing nodes."""


def parse_as_of(value: str | None) -> datetime:
    """Read an `--as-of` value (ISO date or timestamp, UTC when no offset); now when None."""
    if value is None:
        return datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def dbt_args(
    command: Sequence[str],
    *,
    target: str,
    as_of: datetime,
    extra_vars: dict[str, Any] | None = None,
) -> list[str]:
    """The full argument list for one dbt command."""
    variables: dict[str, Any] = {"as_of": as_of.strftime(AS_OF_FORMAT)}
    # a var, not only the environment: dbt parses again when vars change (see adapter_enabled)
    adapters = os.environ.get("AUDIENCE_VENDOR_ADAPTERS")
    if adapters is not None:
        variables["vendor_adapters"] = adapters
    variables.update(extra_vars or {})
    root = str(project_dir())
    return [
        *command,
        "--project-dir",
        root,
        "--profiles-dir",
        root,
        "--target",
        target,
        "--vars",
        json.dumps(variables, sort_keys=True),
    ]


def run_dbt(
    command: Sequence[str],
    *,
    target: str,
    as_of: datetime,
    extra_vars: dict[str, Any] | None = None,
    check: bool = True,
    progress: Reporter | None = None,
    manifest: Any = None,
) -> Any:
    """Invoke dbt and return its result; raise DbtError naming the failures if it failed
    (unless `check` is false: `dbt source freshness` reports stale sources as a failure).

    With a `progress` reporter, dbt's own log lines are off (`--quiet`: errors only) and the
    reporter shows the nodes as they finish instead.

    dbt parses nothing when a parse of the same code version is kept (audience.dbt_cached):
    `as_of` is only read when SQL is compiled, so one parse serves builds as of many
    instants. With a `manifest` (a parse of the same code: dbt's Manifest) dbt uses that.
    """
    from dbt.cli.main import dbtRunner

    from audience import dbt_cached

    tracker = DbtProgress(progress, command) if progress is not None else None
    invoked = [*command, "--quiet"] if tracker and "--quiet" not in command else list(command)

    # profiles.yml reads these; pin them to absolute paths so the working directory is moot
    os.environ["AUDIENCE_DUCKDB_PATH"] = str(duckdb_path())
    os.environ.setdefault("AUDIENCE_DUCKDB_TEMP_DIR", str(duckdb_path().parent / "tmp"))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if target == "spark":
        from audience.spark import pin_environment

        pin_environment()
    args = dbt_args(invoked, target=target, as_of=as_of, extra_vars=extra_vars)
    callbacks = [tracker] if tracker is not None else None
    try:
        if manifest is None:
            # the parse kept for this code version, if any: a new as_of parses nothing
            result = dbt_cached.invoke(args, callbacks=callbacks)
        else:
            result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(args)
    finally:
        if target == "duckdb":
            release_duckdb()
        if tracker is not None:
            tracker.finish()
    if result.exception is not None or (check and not result.success):
        failure = describe_failure(command, result)
        said = f"{failure}\n{result.exception or ''}"
        busy = duckdb_lock_conflict(said) if target == "duckdb" else None
        if busy is not None:
            raise DbtError(f"dbt {' '.join(command)} could not open the warehouse: {busy}")
        raise DbtError(failure)
    return result


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    DuckDB takes one writer process per file: left open, it would lock out the next writer
    (a dbt subprocess of the orchestration, a sync, another CLI command).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def describe_failure(command: Sequence[str], result: Any) -> str:
    failures: list[str] = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status in {"error", "fail", "runtime error"}:
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", "?")
            failures.append(f"  {status}: {name}: {(node_result.message or '').strip()[:500]}")
    detail = "\n".join(failures) or f"  {result.exception!r}"
    return f"dbt {' '.join(command)} failed:\n{detail}"
