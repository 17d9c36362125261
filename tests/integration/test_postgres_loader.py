"""`audience load --target postgres` lands the same rows as on DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audience.loader import LoadError, load_dir
from audience.warehouse import PostgresWarehouse

pytestmark = pytest.mark.postgres

TINY = Path(__file__).parents[1] / "fixtures" / "tiny"


def test_load_into_postgres_is_idempotent(pg_database):
    warehouse = PostgresWarehouse(pg_database)
    try:
        load_dir(TINY, warehouse)
        load_dir(TINY, warehouse)
        counts = dict(
            warehouse.query(
                "select 'pages', count(*) from raw.pages union all "
                "select 'email_events', count(*) from raw.email_events union all "
                "select 'crm_contacts', count(*) from raw.crm_contacts"
            )
        )
        assert counts == {"pages": 13, "email_events": 8, "crm_contacts": 6}
        # text survives COPY unchanged, including whitespace and embedded JSON quotes
        assert warehouse.query("select email from raw.identifies where id = 'i1'") == [
            (" Jane.Doe@Acme.com ",)
        ]
        assert warehouse.query("select properties from raw.tracks where id = 't3'")[0][
            0
        ].startswith('{"order_id": "o1"')
        # a missing id is an empty value, a null
        assert warehouse.query("select count(*) from raw.pages where id is null") == [(1,)]
    finally:
        warehouse.close()


def test_a_bad_file_is_reported_and_the_good_ones_load_on_postgres(pg_database, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(TINY / "pages.csv", data / "pages.csv")
    (data / "crm_contacts.csv").write_text("contact_id,email\nK1,a@b.com\n")
    warehouse = PostgresWarehouse(pg_database)
    try:
        report = load_dir(data, warehouse)
        assert [e.split(": ")[0] for e in report.errors] == ["crm_contacts.csv"]
        missing = "missing required column(s) created_at for raw table 'crm_contacts'"
        assert missing in report.errors[0]
        assert warehouse.query(
            "select (select count(*) from raw.pages), (select count(*) from raw.crm_contacts)"
        ) == [(13, 0)]
        # nothing but the bad file: nothing is written, not even the raw schema
        (data / "pages.csv").unlink()
        other = PostgresWarehouse(pg_database)
        other.execute("drop schema raw cascade")
        other.close()
        with pytest.raises(LoadError, match=r"crm_contacts\.csv: missing required column"):
            load_dir(data, warehouse)
        assert warehouse.query(
            "select count(*) from information_schema.tables where table_schema = 'raw'"
        ) == [(0,)]
    finally:
        warehouse.close()
