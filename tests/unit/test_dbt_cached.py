"""audience-dbt keeps one parse per code version: what changes the version, what does not."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from audience import dbt_cached


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "macros").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    (tmp_path / "profiles.yml").write_text(
        "p:\n  outputs:\n    duckdb:\n      path: \"{{ env_var('P_DUCKDB_PATH') }}\"\n"
    )
    (tmp_path / "models" / "a.sql").write_text("select 1 as x\n")
    (tmp_path / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    return tmp_path


def test_a_new_as_of_is_the_same_code_version(project, monkeypatch):
    monkeypatch.setenv("P_DUCKDB_PATH", "/w/a.duckdb")
    first = dbt_cached.code_version(project, "duckdb", {"as_of": "2026-06-30 00:00:00"})
    assert first == dbt_cached.code_version(project, "duckdb", {"as_of": "2026-07-01 09:00:00"})
    assert first == dbt_cached.code_version(project, "duckdb", {})


def test_files_vars_target_and_the_environment_the_project_reads_change_it(project, monkeypatch):
    monkeypatch.setenv("P_DUCKDB_PATH", "/w/a.duckdb")
    base = dbt_cached.code_version(project, "duckdb", {"as_of": "2026-06-30 00:00:00"})
    seen = {base}

    def changed(version: str) -> None:
        assert version not in seen
        seen.add(version)

    changed(dbt_cached.code_version(project, "postgres", {}))
    changed(dbt_cached.code_version(project, "duckdb", {"vendor_adapters": "hubspot"}))
    # the DuckDB path names every node's database: another path, another parse
    monkeypatch.setenv("P_DUCKDB_PATH", "/w/b.duckdb")
    changed(dbt_cached.code_version(project, "duckdb", {}))
    # a variable the project does not read changes nothing
    monkeypatch.setenv("P_UNREAD", "x")
    assert dbt_cached.code_version(project, "duckdb", {}) in seen
    (project / "models" / "a.sql").write_text("select 2 as x\n")
    changed(dbt_cached.code_version(project, "duckdb", {}))
    (project / "models" / "b.sql").write_text("select 3 as y\n")
    changed(dbt_cached.code_version(project, "duckdb", {}))
    (project / "models" / "b.sql").rename(project / "models" / "c.sql")
    changed(dbt_cached.code_version(project, "duckdb", {}))


def test_the_connection_settings_leave_the_parse_as_it_is(project, monkeypatch):
    (project / "profiles.yml").write_text(
        "p:\n  outputs:\n    duckdb:\n"
        "      path: \"{{ env_var('AUDIENCE_DUCKDB_PATH') }}\"\n"
        "      threads: \"{{ env_var('AUDIENCE_DUCKDB_THREADS') }}\"\n"
        "    postgres:\n      host: \"{{ env_var('PGHOST') }}\"\n"
        "      dbname: \"{{ env_var('PGDATABASE') }}\"\n"
    )
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", "/w/audience.duckdb")
    monkeypatch.setenv("PGDATABASE", "one")
    base = dbt_cached.code_version(project, "duckdb", {})
    monkeypatch.setenv("AUDIENCE_DUCKDB_THREADS", "8")
    monkeypatch.setenv("PGHOST", "db.example")
    # the same file name in another folder is the same database
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", "/tmp/run-2/audience.duckdb")
    assert dbt_cached.code_version(project, "duckdb", {}) == base
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", "/tmp/run-2/other.duckdb")
    assert dbt_cached.code_version(project, "duckdb", {}) != base
    monkeypatch.setenv("AUDIENCE_DUCKDB_PATH", "/w/audience.duckdb")
    # another database name does change it: every node lives in the database
    monkeypatch.setenv("PGDATABASE", "two")
    assert dbt_cached.code_version(project, "duckdb", {}) != base


class FakeRunner:
    """dbtRunner as dbt_cached calls it: a parse writes the partial parse file."""

    parses: bool = True
    given: ClassVar[list] = []

    def __init__(self, manifest=None, callbacks=None) -> None:
        self.manifest = manifest

    def invoke(self, args):
        FakeRunner.given.append(self.manifest)
        if self.manifest is None and FakeRunner.parses:
            target = Path(args[args.index("--target-path") + 1])
            target.mkdir(parents=True, exist_ok=True)
            (target / dbt_cached.PARTIAL_PARSE).write_bytes(f"{args}".encode())
        return object()


def test_a_command_keeps_only_a_parse_it_made(project, tmp_path, monkeypatch):
    import dbt.cli.main

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", FakeRunner)
    monkeypatch.setattr(dbt_cached, "load_manifest", lambda path: path.read_bytes())
    monkeypatch.setenv("AUDIENCE_DBT_MANIFEST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("P_DUCKDB_PATH", "/w/a.duckdb")
    FakeRunner.given = []
    args = ["build", "--project-dir", str(project), "--target-path", str(tmp_path / "t")]
    dbt_cached.invoke([*args, "--vars", '{"as_of": "2026-06-01 00:00:00"}'])
    dbt_cached.invoke([*args, "--vars", '{"as_of": "2026-06-02 00:00:00"}'])
    # the second build, as of another day, ran on the first one's parse
    assert FakeRunner.given[0] is None
    assert FakeRunner.given[1] is not None
    # a command of another code version that stopped before parsing keeps nothing: the
    # partial parse file left by the first is not this version's
    FakeRunner.parses = False
    try:
        dbt_cached.invoke([*args, "--vars", '{"vendor_adapters": "off"}'])
        dbt_cached.invoke([*args, "--vars", '{"vendor_adapters": "off"}'])
    finally:
        FakeRunner.parses = True
    assert FakeRunner.given[2:] == [None, None]
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_the_command_and_what_needs_a_manifest():
    assert dbt_cached.command_of(["build", "--vars", "{}"]) == "build"
    assert dbt_cached.command_of(["--project-dir", "/p", "run", "-s", "x"]) == "run"
    assert dbt_cached.command_of(["--log-format", "json", "test"]) == "test"
    assert dbt_cached.command_of(["--version"]) is None
    assert "build" in dbt_cached.MANIFEST_COMMANDS
    assert "parse" not in dbt_cached.MANIFEST_COMMANDS


def test_it_answers_the_version_as_dbt_does(capsys):
    from dbt.version import __version__

    assert dbt_cached.main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_a_parse_is_kept_under_its_version_and_old_ones_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt_cached, "KEEP", 2)
    parsed = tmp_path / "partial_parse.msgpack"
    cache = tmp_path / "cache"
    for n in range(3):
        parsed.write_bytes(bytes([n]))
        dbt_cached.keep(parsed, cache, f"v{n}")
    kept = sorted(p.name for p in cache.iterdir())
    assert kept == ["v1.msgpack", "v2.msgpack"]
    assert (cache / "v2.msgpack").read_bytes() == b"\x02"
