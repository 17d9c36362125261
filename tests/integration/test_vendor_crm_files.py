"""CRM exports landed as text by `audience load --source`: Salesforce's Data Loader Contact
file (API names as headers) with a second, hand-made export beside it (a newer version of a
contact, an opt-out, a merged and a deleted contact, a bad timestamp, a row without id), and
HubSpot's sample tables under the names Fivetran's dbt package gives them (`contact_data`).
One DuckDB warehouse, one staging build."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from crm_vendors import HUBSPOT_SAMPLE, SALESFORCE_SAMPLE, figures
from warehouses import DAILY_BUILD, BuiltWarehouse, environment

from audience.dbt import run_dbt
from audience.loader import load_dir
from audience.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 6, 30)
STAGING = [*DAILY_BUILD, "--select", "+quarantine", "+path:models/staging"]
VARS = {
    "salesforce__contact_identifier": "dataloader_contact",
    "hubspot__identifier_suffix": "_data",
}
TABLE = "raw_salesforce.dataloader_contact"

#: a later Data Loader export of Contact, with the columns the sample's lacks
LATER_EXPORT = """\
Id,Email,AccountId,HasOptedOutOfEmail,IsDeleted,MasterRecordId,CreatedDate,LastModifiedDate
0035e00000Con000AAA,Person000@Example.org,0015e00000Acc000AAA,true,false,,2024-03-01T12:00:00.000+0000,2024-07-01T12:00:00.000+0000
0035e00000Con950AAA,person001.old@example.org,0015e00000Acc001AAA,false,true,0035e00000Con001AAA,2024-02-01T12:00:00.000+0000,2024-06-02T12:00:00.000+0000
0035e00000Con951AAA,gone@example.org,0015e00000Acc001AAA,false,true,,2024-02-01T12:00:00.000+0000,2024-06-02T12:00:00.000+0000
0035e00000Con952AAA,person952@example.org,0015e00000Acc001AAA,false,false,,yesterday,2024-06-02T12:00:00.000+0000
,nobody@example.org,0015e00000Acc001AAA,false,false,,2024-02-01T12:00:00.000+0000,2024-06-02T12:00:00.000+0000
"""


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    root: Path = tmp_path_factory.mktemp("crm_files")
    salesforce = root / "salesforce" / "dataloader_contact"
    salesforce.mkdir(parents=True)
    shutil.copy(SALESFORCE_SAMPLE / "dataloader_Contact.csv", salesforce / "part-1.csv")
    (salesforce / "part-2.csv").write_text(LATER_EXPORT)
    hubspot = root / "hubspot"
    hubspot.mkdir()
    for path in HUBSPOT_SAMPLE.glob("*.csv"):
        shutil.copy(path, hubspot / path.name)
    built = BuiltWarehouse("duckdb", root, AS_OF, path=root / "files.duckdb")
    with environment(AUDIENCE_DUCKDB_PATH=str(built.path)):
        warehouse = DuckDBWarehouse(built.path)
        try:
            load_dir(root / "salesforce", warehouse, source="salesforce")
            load_dir(hubspot, warehouse, source="hubspot")
        finally:
            warehouse.close()
        run_dbt(STAGING, target="duckdb", as_of=AS_OF, extra_vars=VARS)
    return built


def test_every_exported_row_is_staged_quarantined_or_left_out_on_purpose(landed):
    found = figures(landed, "crm_contacts", TABLE, "%/dataloader_contact/%")
    # the deleted contact merged into nothing is left out
    assert (found.rows_in, found.mapped, found.staged) == (33, 32, 29)
    assert found.quarantined == {"duplicate_id": 1, "invalid_timestamp": 1, "missing_id": 1}
    for contract_table, table, rows in [
        ("crm_contacts", "contact_data", 22),
        ("crm_companies", "company_data", 24),
        ("crm_deals", "deal_data", 44),
    ]:
        found = figures(landed, contract_table, f"raw_hubspot.{table}", f"%/{table}.csv")
        assert (found.rows_in, found.mapped, found.staged, found.quarantined) == (
            rows,
            rows,
            rows,
            {},
        ), table


def test_data_loader_api_names_map_like_fivetran_columns(landed):
    rows = landed.query(
        "select crm_contact_id, email, company_id, first_name, job_title, email_opt_out, "
        "merged_into_contact_id, cast(updated_at as varchar) from staging.stg_crm__contacts "
        "where crm_contact_id in ('0035e00000Con000AAA', '0035e00000Con002AAA', "
        "'0035e00000Con950AAA') order by crm_contact_id"
    )
    assert rows == [
        # the later export's version wins, with its opt-out; the earlier one is a duplicate
        (
            "0035e00000Con000AAA",
            "person000@example.org",
            "0015e00000Acc000AAA",
            None,
            None,
            True,
            None,
            "2024-07-01 12:00:00",
        ),
        (
            "0035e00000Con002AAA",
            "person002@example.org",
            "0015e00000Acc002AAA",
            "First2",
            "Data Engineer",
            False,
            None,
            "2024-06-01 12:00:00",
        ),
        (
            "0035e00000Con950AAA",
            "person001.old@example.org",
            "0015e00000Acc001AAA",
            None,
            None,
            False,
            "0035e00000Con001AAA",
            "2024-06-02 12:00:00",
        ),
    ]


def test_quarantined_export_rows_keep_their_file_and_row(landed):
    rows = landed.query(
        "select record_id, quarantine_reason, raw_timestamp, source_row_number, source_file "
        "from marts.quarantine where source_table = 'crm_contacts' order by quarantine_reason"
    )
    assert [row[:4] for row in rows] == [
        ("0035e00000Con000AAA", "duplicate_id", "2024-06-01T12:00:00.000+0000", 1),
        ("0035e00000Con952AAA", "invalid_timestamp", "yesterday", 4),
        (None, "missing_id", "2024-06-02T12:00:00.000+0000", 5),
    ]
    assert [Path(row[4]).name for row in rows] == ["part-1.csv", "part-2.csv", "part-2.csv"]


def test_hubspot_sample_names_are_read_with_the_identifier_suffix(landed):
    merged = landed.query(
        "select crm_contact_id, merged_into_contact_id from staging.stg_crm__contacts "
        "where merged_into_contact_id is not null order by crm_contact_id"
    )
    assert merged == [
        ("0035e00000Con950AAA", "0035e00000Con001AAA"),
        ("46897301", "78971951"),
        ("76226001", "78971951"),
        ("76340251", "78971951"),
    ]
