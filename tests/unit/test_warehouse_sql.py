"""How statements reach PostgreSQL through psycopg2."""

from __future__ import annotations

from audience.warehouse import _pyformat


def test_postgres_placeholders_touch_only_statements_with_parameters() -> None:
    regex = "select 'a' ~ '^[0-9]{4}([.][0-9])?$' and 'x' like '%x%'"
    assert _pyformat(regex, ()) == (regex, None)
    assert _pyformat("select ? where name like 'a%'", ["v"]) == (
        "select %s where name like 'a%%'",
        ["v"],
    )
