"""The figures a run prints: rows per layer, quarantined rows, rows left out after as_of,
contacts and merges."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from audience.warehouse import Warehouse

LAYERS: tuple[str, ...] = ("raw", "staging", "intermediate", "segments", "marts", "snapshots")
#: tables beside an incremental model (macros/incremental/incremental_window.sql)
STATE_SUFFIXES: tuple[str, ...] = ("__build_state", "__identity_applied")


@dataclass
class RunSummary:
    target: str
    as_of: str
    relations: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine: dict[str, dict[str, int]] = field(default_factory=dict)
    #: staged rows the build did not count, per raw table: arrived (or happened) after as_of
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)
    contacts: int = 0
    identified_contacts: int = 0
    contacts_with_merged_duplicates: int = 0
    identifiers_merged: int = 0
    segment_sizes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def quarantined_rows(self) -> int:
        return sum(sum(reasons.values()) for reasons in self.quarantine.values())

    @property
    def left_out_rows(self) -> int:
        return sum(sum(counts.values()) for counts in self.left_out.values())

    def to_json(self) -> str:
        return json.dumps(
            {
                **asdict(self),
                "quarantined_rows": self.quarantined_rows,
                "left_out_rows": self.left_out_rows,
            },
            indent=2,
            sort_keys=True,
        )

    def format_text(self) -> str:
        lines = [f"as_of {self.as_of} on {self.target}", "", "rows per layer:"]
        for layer, relations in self.relations.items():
            lines.append(
                f"  {layer:<13} {sum(relations.values()):>12,}  ({len(relations)} relations)"
            )
            for name, rows in sorted(relations.items()):
                lines.append(f"      {name:<44} {rows:>12,}")
        lines.append("")
        lines.append(f"quarantined rows: {self.quarantined_rows:,}")
        for table, reasons in sorted(self.quarantine.items()):
            detail = ", ".join(f"{reason} {count:,}" for reason, count in sorted(reasons.items()))
            lines.append(f"  {table:<16} {detail}")
        lines.append("")
        lines.append(f"left out as of {self.as_of}: {self.left_out_rows:,} staged rows")
        for table, counts in sorted(self.left_out.items()):
            if sum(counts.values()):
                lines.append(
                    f"  {table:<16} arrived after it {counts['arrived_after_as_of']:,}, "
                    f"happened after it {counts['happened_after_as_of']:,}"
                )
        lines.append("")
        lines.append(
            f"contacts: {self.contacts:,} ({self.identified_contacts:,} identified, "
            f"{self.contacts - self.identified_contacts:,} anonymous only)"
        )
        lines.append(
            f"merged duplicates: {self.contacts_with_merged_duplicates:,} contacts joined "
            f"several emails or CRM records; {self.identifiers_merged:,} identifiers merged "
            "into another's contact"
        )
        if self.segment_sizes:
            lines.append("")
            lines.append("segment sizes (by priority):")
            for segment_id, members in self.segment_sizes.items():
                lines.append(f"  {segment_id:<30} {members:>10,}")
        if self.seconds:
            timing = ", ".join(f"{step} {secs:.1f}s" for step, secs in self.seconds.items())
            lines.append(f"time: {timing}")
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")


def collect(warehouse: Warehouse, *, as_of: str) -> RunSummary:
    summary = RunSummary(target=warehouse.target, as_of=as_of)
    rows = warehouse.relations(LAYERS)
    for layer in LAYERS:
        summary.relations[layer] = {}
    for schema, name in rows:
        if name.endswith(STATE_SUFFIXES):
            continue  # what an incremental model keeps about its last build
        (count,) = warehouse.query(
            f"select count(*) from {warehouse.quote(schema)}.{warehouse.quote(name)}"
        )[0]
        summary.relations[schema][name] = int(count)

    for table, reason, count in warehouse.query(
        "select source_table, quarantine_reason, count(*) from marts.quarantine group by 1, 2"
    ):
        summary.quarantine.setdefault(table, {})[reason] = int(count)

    for table, arrived, happened in warehouse.query(
        "select source_table, rows_arrived_after_as_of, rows_happened_after_as_of "
        "from marts.report_arrivals"
    ):
        summary.left_out[table] = {
            "arrived_after_as_of": int(arrived),
            "happened_after_as_of": int(happened),
        }

    contacts, identified, merged = warehouse.query(
        "select count(*), "
        "sum(case when is_identified then 1 else 0 end), "
        "sum(case when email_count > 1 or crm_contact_count > 1 then 1 else 0 end) "
        "from marts.contacts"
    )[0]
    summary.contacts = int(contacts or 0)
    summary.identified_contacts = int(identified or 0)
    summary.contacts_with_merged_duplicates = int(merged or 0)
    (identifiers,) = warehouse.query("select count(*) from marts.identity_map")[0]
    summary.identifiers_merged = int(identifiers or 0) - summary.contacts
    for segment_id, members in warehouse.query(
        "select segment_id, member_count from marts.segments order by priority"
    ):
        summary.segment_sizes[segment_id] = int(members)
    return summary
