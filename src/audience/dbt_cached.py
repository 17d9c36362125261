"""`audience-dbt`: dbt, with the parsed project reused for as long as the code is the same.

dbt parses the whole project again whenever `--vars` change (its partial parsing keys on
them), and every run of the orchestration passes a new `as_of`: each daily or realtime build
paid a full parse. `as_of` is only read when SQL is compiled and run, never while parsing
(no config, source or `enabled` setting reads it), so a parsed manifest serves every as_of.

This entry point takes dbt's own arguments. For a command that needs the manifest it looks
for a manifest parsed before with the same *code version*: a hash of the project's files
(models, macros, seeds, snapshots, tests, analyses, dbt_project.yml, profiles.yml), the dbt
version, the target, every var but `as_of`, and the environment variables the project reads
(`env_var(...)`) but the connection's settings, and of the DuckDB path only the database
name dbt-duckdb takes from it (every node lives in that database). On a hit dbt runs with
that manifest and parses nothing; on a miss dbt parses as usual and its parse
(`partial_parse.msgpack`) is kept under the hash for the next run. The orchestration's
dagster-dbt resource runs dbt through it (orchestration/definitions.py), and so does every
in-process run (`audience.dbt.run_dbt`: the CLI, the backtest, the tests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from audience.project import project_dir

#: the project's files whose content decides what dbt parses
PARSED_FOLDERS = ("models", "macros", "seeds", "snapshots", "data-tests", "expectations/batches")
PARSED_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")
#: dbt commands that work on a parsed project (the others parse nothing, or only parse)
MANIFEST_COMMANDS = frozenset(
    {"build", "run", "test", "seed", "snapshot", "compile", "show", "list", "ls", "run-operation"}
)
#: the var every build passes anew; read when SQL is compiled, never while parsing
RUNTIME_VARS = frozenset({"as_of"})
ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")
#: environment variables profiles.yml reads for the connection alone: no node's database,
#: schema or configuration depends on them, so they leave the parse as it is
CONNECTION_ONLY = frozenset(
    {
        "AUDIENCE_DUCKDB_MEMORY_LIMIT",
        "AUDIENCE_DUCKDB_TEMP_DIR",
        "AUDIENCE_DUCKDB_THREADS",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
    }
)
#: a DuckDB file's path shapes the parse only through the database name dbt-duckdb takes
#: from it (every node lives in that database): `a/w.duckdb` and `b/w.duckdb` parse alike
DUCKDB_PATHS = frozenset({"AUDIENCE_DUCKDB_PATH"})
PARTIAL_PARSE = "partial_parse.msgpack"
#: manifests kept per cache folder (older code versions are removed)
KEEP = 8


def project_files(root: Path) -> Iterator[Path]:
    for name in PARSED_FILES:
        if (root / name).is_file():
            yield root / name
    for folder in PARSED_FOLDERS:
        base = root / folder
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.is_file())


def code_version(root: Path, target: str | None, variables: dict[str, Any]) -> str:
    """The hash a parsed manifest is kept under: the project's files, the dbt version, the
    target, the vars that shape the parse and the environment variables the project reads."""
    from dbt.version import __version__

    digest = hashlib.sha256()
    digest.update(f"dbt {__version__}\0target {target or ''}\0".encode())
    read: set[str] = set()
    for path in project_files(root):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
        if path.suffix in {".yml", ".yaml", ".sql", ".md"}:
            read.update(ENV_VAR.findall(data.decode("utf-8", errors="replace")))
    for name in sorted(read - CONNECTION_ONLY):
        digest.update(f"env {name}={_parsed_value(name)}\0".encode())
    shaping = {k: v for k, v in variables.items() if k not in RUNTIME_VARS}
    digest.update(json.dumps(shaping, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _parsed_value(name: str) -> str:
    """What of an environment variable the parse can see."""
    value = os.environ.get(name)
    if value is None:
        return "\0"
    if name in DUCKDB_PATHS:
        from dbt.adapters.duckdb.credentials import DuckDBCredentials

        return f"database {DuckDBCredentials.path_derived_database_name(value)}"
    return value


def _options(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    for flag in ("--vars", "--target", "-t", "--project-dir", "--target-path"):
        parser.add_argument(flag, dest=flag.lstrip("-").replace("-", "_"))
    known, _ = parser.parse_known_args(list(args))
    return known


def command_of(args: Sequence[str]) -> str | None:
    """dbt's command in an argument list (the first word that is not an option)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = "=" not in arg and arg in {"--project-dir", "--profiles-dir", "--log-format"}
            continue
        return arg
    return None


def cache_dir(root: Path) -> Path:
    """Where parsed manifests are kept: AUDIENCE_DBT_MANIFEST_CACHE, else target/parsed."""
    configured = os.environ.get("AUDIENCE_DBT_MANIFEST_CACHE")
    return Path(configured) if configured else root / "target" / "parsed"


def invocation_target_path(root: Path, options: argparse.Namespace) -> Path:
    """Where this dbt invocation writes its artifacts (its partial parse among them)."""
    configured = options.target_path or os.environ.get("DBT_TARGET_PATH") or "target"
    path = Path(configured)
    return path if path.is_absolute() else root / path


def load_manifest(path: Path) -> Any:
    """A manifest dbt saved for partial parsing, as dbt reads it."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    manifest = Manifest.from_msgpack(path.read_bytes(), decoder=extended_mashumuro_decoder)
    # what dbt builds after it loads or parses a manifest, and does not save with it: the
    # `graph` context variable (macros read graph.nodes), the parent, child and group maps
    manifest.build_flat_graph()
    manifest.build_parent_and_child_maps()
    manifest.build_group_map()
    return manifest


def kept_manifest(cache: Path, key: str) -> Any | None:
    """The parse kept under this code version, or None when there is none or it cannot be
    read (a file of another dbt, or one cut short: it is removed, to be parsed again)."""
    kept = cache / f"{key}.msgpack"
    if not kept.is_file():
        return None
    try:
        return load_manifest(kept)
    except Exception as exc:
        print(f"audience-dbt: parsing again, {kept} unreadable: {exc}", file=sys.stderr)
        kept.unlink(missing_ok=True)
        return None


def keep(parsed: Path, cache: Path, key: str) -> None:
    """Keep a parse under its code version (atomically: concurrent runs may race) and drop
    the oldest ones beyond KEEP."""
    cache.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=cache, suffix=".tmp")
    os.close(handle)
    shutil.copyfile(parsed, scratch)
    os.chmod(scratch, 0o644)
    os.replace(scratch, cache / f"{key}.msgpack")
    kept = sorted(cache.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)


def invoke(args: Sequence[str], *, callbacks: list[Any] | None = None) -> Any:
    """dbtRunner's invoke of one dbt command (its result), on the parse kept for this code
    version when there is one; a parse this command makes is kept for the next one."""
    from dbt.cli.main import dbtRunner

    args = list(args)
    if command_of(args) not in MANIFEST_COMMANDS:
        return dbtRunner(callbacks=callbacks).invoke(args)
    options = _options(args)
    root = Path(options.project_dir or os.environ.get("DBT_PROJECT_DIR") or project_dir())
    key = code_version(root, options.target or options.t, _vars(options.vars))
    cache = cache_dir(root)
    manifest = kept_manifest(cache, key)
    parsed = invocation_target_path(root, options) / PARTIAL_PARSE
    before = _written(parsed)
    result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(args)
    # only what this command parsed: one that stopped before parsing leaves an older file
    if manifest is None and _written(parsed) not in (before, None):
        keep(parsed, cache, key)
    return result


def _written(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def run(args: Sequence[str]) -> int:
    """Run one dbt command, reusing the parse of this code version when there is one;
    dbt's exit code (0 success, 1 failed nodes, 2 an error)."""
    return _exit_code(invoke(args))


def _vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    import yaml

    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else {}


def _exit_code(result: Any) -> int:
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-v"], ["-V"]):
        # what dagster-dbt asks to learn the dbt version
        from dbt.version import __version__

        print(f"Core:\n  - installed: {__version__}")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
