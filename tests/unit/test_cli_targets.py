"""Which commands take which targets: Spark loads and builds; the commands that query the
marts with SQL of their own (checks, syncs, reports, explain) run on DuckDB and PostgreSQL."""

from __future__ import annotations

import pytest

from audience.cli import build_parser


@pytest.mark.parametrize("command", [["load", "data"], ["run"]])
def test_load_and_run_take_spark(command):
    args = build_parser().parse_args([*command, "--target", "spark"])
    assert args.target == "spark"


@pytest.mark.parametrize("command", [["check"], ["report"], ["sync"], ["explain", "x@y.com"]])
def test_query_commands_refuse_spark(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--target", "spark"])
    assert "invalid choice: 'spark'" in capsys.readouterr().err
