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
