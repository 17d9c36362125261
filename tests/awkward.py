"""Awkward raw files shared by the unit and integration tests of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TRACKS_HEADER = "id,anonymous_id,user_id,event,timestamp,received_at,properties\n"
IDENTIFIES_HEADER = "id,anonymous_id,user_id,email,timestamp\n"


def nul_folder(tmp_path: Path) -> Path:
    """tracks.csv, identifies.jsonl and pages.parquet with NUL characters in their text."""
    data = tmp_path / "nul"
    data.mkdir()
    (data / "tracks.csv").write_bytes(
        TRACKS_HEADER.encode()
        + b't1,a1,,Sign\x00ed Up,2026-06-01T09:00:00Z,2026-06-01T09:00:01Z,"{""k"": ""v\x00""}"\n'
        + b't2,a1,,Signed Up,2026-06-01T09:00:00Z,2026-06-01T09:00:01Z,"{""k"": ""a\\u0000b""}"\n'
        + b't3,a1,,Signed Up,2026-06-01T09:00:00Z,2026-06-01T09:00:01Z,"{""k"": ""a\\\\u0000b""}"\n'
    )
    identify = {
        "id": "i1",
        "anonymous_id": "a1",
        "user_id": "u1",
        "email": "jo\u0000@x.com",
        "timestamp": "2026-06-01T09:00:00Z",
        "traits": {"name": "J\u0000o", "plan": "pro"},
    }
    (data / "identifies.jsonl").write_text(json.dumps(identify) + "\n")
    pages = pa.table(
        {
            "id": ["p1", "p2"],
            "anonymous_id": ["a1", "a1"],
            "user_id": [None, None],
            "timestamp": ["2026-06-01T09:00:00Z"] * 2,
            "received_at": ["2026-06-01T09:00:01Z"] * 2,
            "url": ["https://x.example/\x00a", "https://x.example/"],
            "path": ["/\x00a", "/"],
            "title": ["Ti\x00tle\x00", "\x00"],
        }
    )
    pq.write_table(pages, data / "pages.parquet")
    return data


NUL_FREE_TRACKS = [
    ("t1", "Signed Up", '{"k": "v"}'),
    ("t2", "Signed Up", '{"k": "ab"}'),
    # an escaped backslash before "u0000" is not a NUL escape: left alone
    ("t3", "Signed Up", '{"k": "a\\\\u0000b"}'),
]
NUL_FREE_IDENTIFIES = [("i1", "jo@x.com", '{"name":"Jo","plan":"pro"}')]
NUL_FREE_PAGES = [("p1", "Title"), ("p2", "")]


#: Timestamp text as exports spell it (and misspell it), with what staging makes of it on
#: every engine: the UTC instant, or the quarantine reason.
AWKWARD_TIMESTAMPS: list[tuple[str, str, str | None, str | None]] = [
    # (id, timestamp text, occurred_at, quarantine_reason)
    ("t01", "2026-06-01T09:00:00Z", "2026-06-01 09:00:00", None),
    ("t02", "2026-06-01 09:00:00", "2026-06-01 09:00:00", None),
    ("t03", "2026-06-01T09:00:00+02:00", "2026-06-01 07:00:00", None),
    ("t04", "2026-06-01T09:00:00.250-0530", "2026-06-01 14:30:00.250000", None),
    ("t05", "2026-06-01", "2026-06-01 00:00:00", None),
    ("t06", " 2026-06-01t09:00:00 UTC ", "2026-06-01 09:00:00", None),
    ("t07", "1970-01-01T00:00:00Z", "1970-01-01 00:00:00", None),
    ("t08", "2026-06-01T24:00:00Z", "2026-06-02 00:00:00", None),
    # PostgreSQL reads these relative to the wall clock (or as fixed instants): no engine may
    ("t09", "now", None, "invalid_timestamp"),
    ("t10", "today", None, "invalid_timestamp"),
    ("t11", "yesterday", None, "invalid_timestamp"),
    ("t12", "tomorrow", None, "invalid_timestamp"),
    ("t13", "epoch", None, "invalid_timestamp"),
    ("t14", "allballs", None, "invalid_timestamp"),
    ("t15", "2026-06-01 allballs", None, "invalid_timestamp"),
    ("t16", "-infinity", None, "invalid_timestamp"),
    ("t17", "infinity", None, "invalid_timestamp"),
    # outside the years 1970 to 2200
    ("t18", "0001-01-01 00:00:00", None, "invalid_timestamp"),
    ("t19", "1969-12-31T23:59:59Z", None, "invalid_timestamp"),
    ("t20", "9999-12-31", None, "invalid_timestamp"),
    ("t21", "2201-01-01T00:00:00Z", None, "invalid_timestamp"),
    ("t22", "2026-01-01 BC", None, "invalid_timestamp"),
    ("t23", "2026-01-01 (BC)", None, "invalid_timestamp"),
    # not a date, or not a form of the contract (PostgreSQL reads the last two)
    ("t24", "2026-02-30", None, "invalid_timestamp"),
    ("t25", "2026-13-01T00:00:00Z", None, "invalid_timestamp"),
    ("t26", "", None, "invalid_timestamp"),
    ("t27", "1700000000", "2023-11-14 22:13:20", None),  # epoch seconds (below)
    ("t28", "20260601", None, "invalid_timestamp"),
    ("t29", "June 1, 2026", None, "invalid_timestamp"),
    # in range but later than received_at by more than the tolerance
    ("t30", "2199-06-01T00:00:00Z", "2199-06-01 00:00:00", "future_timestamp"),
    # spellings one engine reads and the other does not (or reads otherwise)
    ("t31", "2026-6-1T9:00z", "2026-06-01 09:00:00", None),
    ("t32", "2026-06-01T09:00:00GMT", None, "invalid_timestamp"),
    ("t33", "2026-06-01T09:00:00 +02:00", None, "invalid_timestamp"),
    ("t34", "2026-06-01T09:00:00 Z", None, "invalid_timestamp"),
    ("t35", "2026-06-01T09:00:00.1234567Z", None, "invalid_timestamp"),
    ("t36", "2026-06-01T09:00:00+25:00", None, "invalid_timestamp"),
    ("t37", "2026-06-01T09:00:00 Europe/Paris", None, "invalid_timestamp"),
    # Unix epoch numbers (UTC), told apart by their digits: seconds (9-10, with up to six
    # decimals), milliseconds (12-13), microseconds (15-16)
    ("t38", "100000000", "1973-03-03 09:46:40", None),
    ("t39", " 1718316434.5 ", "2024-06-13 22:07:14.500000", None),
    ("t40", "1718316434.123456", "2024-06-13 22:07:14.123456", None),
    ("t41", "1718316434123", "2024-06-13 22:07:14.123000", None),
    ("t42", "171831643412", "1975-06-12 19:00:43.412000", None),
    ("t43", "1718316434123456", "2024-06-13 22:07:14.123456", None),
    ("t44", "7289654399", "2200-12-31 23:59:59", "future_timestamp"),
    # other digit counts, signs, leading zeros, too many decimals, or after 2200
    ("t45", "17183164341", None, "invalid_timestamp"),
    ("t46", "17183164341234", None, "invalid_timestamp"),
    ("t47", "17183164341234567", None, "invalid_timestamp"),
    ("t48", "1718316434.1234567", None, "invalid_timestamp"),
    ("t49", "1718316434123.5", None, "invalid_timestamp"),
    ("t50", "-1718316434", None, "invalid_timestamp"),
    ("t51", "0718316434", None, "invalid_timestamp"),
    ("t52", "7289654400", None, "invalid_timestamp"),
    ("t53", "1.718316434e9", None, "invalid_timestamp"),
]


def awkward_timestamps_folder(root: Path) -> Path:
    """A folder with one tracks.csv: one row per AWKWARD_TIMESTAMPS entry."""
    import csv

    data = root / "awkward_timestamps"
    data.mkdir()
    with (data / "tracks.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(TRACKS_HEADER.strip().split(","))
        for track_id, text, _, _ in AWKWARD_TIMESTAMPS:
            writer.writerow([track_id, "a1", "", "Signed Up", text, "2026-06-02T09:00:00Z", "{}"])
    return data
