from __future__ import annotations

import json
from datetime import datetime

import pytest

from audience.dbt import dbt_args, parse_as_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-30", datetime(2026, 6, 30)),
        ("2026-06-30T12:30:00Z", datetime(2026, 6, 30, 12, 30)),
        ("2026-06-30T14:30:00+02:00", datetime(2026, 6, 30, 12, 30)),
        ("2026-06-30 12:30:00", datetime(2026, 6, 30, 12, 30)),
    ],
)
def test_as_of_is_read_as_utc(text, expected):
    assert parse_as_of(text) == expected


def test_as_of_defaults_to_now_without_microseconds():
    now = parse_as_of(None)
    assert now.microsecond == 0 and now.tzinfo is None


def test_bad_as_of_is_an_error():
    with pytest.raises(ValueError):
        parse_as_of("yesterday")


def test_dbt_args_carry_target_and_vars(monkeypatch):
    monkeypatch.delenv("AUDIENCE_VENDOR_ADAPTERS", raising=False)
    args = dbt_args(["build", "-s", "contacts"], target="postgres", as_of=datetime(2026, 6, 30))
    assert args[:3] == ["build", "-s", "contacts"]
    assert args[args.index("--target") + 1] == "postgres"
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-06-30 00:00:00"}


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_vendor_adapters_setting_travels_as_a_var(monkeypatch, setting):
    # a var, so that switching it makes dbt parse again instead of reusing a stale manifest
    monkeypatch.setenv("AUDIENCE_VENDOR_ADAPTERS", setting)
    args = dbt_args(["parse"], target="duckdb", as_of=datetime(2026, 6, 30))
    assert json.loads(args[args.index("--vars") + 1])["vendor_adapters"] == setting
