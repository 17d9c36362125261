"""The real samples under /work/shared/data (read-only), copied into a test's folder, and what
they hold counted independently of the loader (Python's csv and json modules, pyarrow)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

#: copies of the shared sample data sets, each with its LICENSE and SOURCE
SHARED = Path(__file__).resolve().parent / "fixtures" / "samples"


@dataclass(frozen=True)
class Sample:
    """A sample export: its source, what to copy (a file or a folder's data files), and the
    file a test changes to see its rows replaced."""

    source: str
    copy: str
    changed: str

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"


SAMPLES: dict[str, Sample] = {
    "segment": Sample("segment", "vendor_shapes/segment", "order_completed.csv"),
    "sendgrid": Sample(
        "sendgrid", "vendor_shapes/sendgrid/sendgrid_events.jsonl", "sendgrid_events.jsonl"
    ),
    "ga4": Sample("ga4", "vendor_shapes/ga4/events_20240601.parquet", "events_20240601.parquet"),
    "salesforce": Sample(
        "salesforce", "vendor_shapes/salesforce/dataloader_Contact.csv", "dataloader_Contact.csv"
    ),
    "hubspot": Sample("hubspot", "fivetran_hubspot_crm_email", "contact_data.csv"),
    "snowplow": Sample(
        "snowplow", "snowplow_web_b2b/snowplow_web_events.csv", "snowplow_web_events.csv"
    ),
    "transactions": Sample("transactions", "lifetimes_cdnow_rfm", "CDNOW_sample.txt"),
}

#: the suffixes of data files in the sample folders (their LICENSE.txt and SOURCE.txt are not)
DATA_SUFFIXES = (".csv", ".jsonl", ".parquet")


def copy_sample(sample: Sample, into: Path) -> Path:
    """The sample's data files, copied into `into`/data (writable, unlike the originals)."""
    source = SHARED / sample.copy
    assert source.exists(), f"the sample is missing from the repository: {source}"
    data = into / "data"
    data.mkdir(parents=True)
    paths = [source] if source.is_file() else sorted(source.iterdir())
    for path in paths:
        is_cdnow = path.suffix == ".txt" and path.name.startswith("CDNOW")
        if path.is_file() and (path.suffix in DATA_SUFFIXES or is_cdnow):
            shutil.copyfile(path, data / path.name)
            (data / path.name).chmod(0o644)
    return data


def table_of(path: Path) -> str:
    """The table a sample file lands in, by the documented rule: the name before the suffix,
    a date shard's `_YYYYMMDD` left out, lower-cased, other characters than a-z, 0-9, _ as _."""
    stem = path.name.split(".")[0]
    stem = re.sub(r"_\d{8}$", "", stem)
    return re.sub(r"[^a-z0-9_]", "_", stem.lower())


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def text_rows(path: Path) -> tuple[list[str] | None, list[list[str]]]:
    """Whitespace-separated lines: (the header, or None when the first line is numbers)."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if all(re.fullmatch(r"[+-]?[\d.]+", value) for value in lines[0]):
        return None, lines
    return lines[0], lines[1:]


def count_rows(path: Path) -> int:
    """The rows of one file, counted without the loader."""
    if path.suffix == ".csv":
        return len(csv_rows(path)[1])
    if path.suffix == ".jsonl":
        return len(jsonl_rows(path))
    if path.suffix == ".parquet":
        return pq.read_metadata(path).num_rows
    return len(text_rows(path)[1])


def expected_counts(data: Path) -> dict[str, int]:
    """Rows per table of a copied sample folder."""
    counts: dict[str, int] = {}
    for path in sorted(data.iterdir()):
        counts[table_of(path)] = counts.get(table_of(path), 0) + count_rows(path)
    return counts


def drop_last_row(path: Path) -> None:
    """Change a file: its last row goes (a parquet file is written again without it)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        pq.write_table(table.slice(0, table.num_rows - 1), path)
        return
    if path.suffix == ".csv":  # a quoted value may span lines: rewrite the records
        header, rows = csv_rows(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows[:-1]])
        return
    lines = path.read_bytes().rstrip(b"\r\n").split(b"\n")
    path.write_bytes(b"\n".join(lines[:-1]) + b"\n")
