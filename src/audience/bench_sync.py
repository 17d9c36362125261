"""`audience bench-sync`: records per second of the reverse-ETL path at scale.

A throwaway DuckDB warehouse gets a synthetic export of N audience memberships (30 lists);
the marketing-lists destination sends them to the local lists API (a real HTTP server in
this process). Measured: the full first sync, a sync where nothing changed (the diff alone),
and a sync after 1 % of the memberships changed (half left their list, as many joined). The
quality gate of the synthetic warehouse is a recorded passing check of one build (the scratch
marts of the fault suite, audience.sync_faults): this measures delivery, not the checks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from audience.devservers import ApiState, Server
from audience.sync_faults import PHASES, prepare_warehouse
from audience.syncs import AudienceApi, load_config, sync_destination
from audience.warehouse import DuckDBWarehouse

#: the scratch build the gate passes (the fault suite's first phase)
AS_OF, BUILD_ID = PHASES[0]
LISTS = 30


@dataclass
class Step:
    name: str
    records: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def _export(warehouse: DuckDBWarehouse, members: int, offset: int = 0) -> None:
    warehouse.execute(
        f"""insert into marts.export_audience_members
            (record_key, audience_key, segment_id, channel, email, contact_key, payload_hash,
            email_reach, ads_reach, build_id)
        select
            'seg_' || (i % {LISTS}) || ':person' || i || '@example.com' as record_key,
            'seg_' || (i % {LISTS}) as audience_key,
            'seg_' || (i % {LISTS}) as segment_id,
            'email' as channel,
            'person' || i || '@example.com' as email,
            md5('contact' || i) as contact_key,
            md5('seg_' || (i % {LISTS}) || 'person' || i) as payload_hash,
            'reachable' as email_reach,
            'reachable' as ads_reach,
            '{BUILD_ID}' as build_id
        from range({offset}, {offset + members}) as t(i)"""
    )


def run(members: int, workdir: Path, batch_size: int = 10_000) -> list[Step]:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench_sync.duckdb"
    path.unlink(missing_ok=True)
    warehouse = DuckDBWarehouse(path)
    state = ApiState()
    server = Server(state)
    os.environ["AUDIENCE_LISTS_API_URL"] = server.url
    try:
        prepare_warehouse(warehouse, people=10)
        warehouse.execute("delete from marts.export_audience_members")
        _export(warehouse, members)
        config = dataclasses.replace(
            load_config()["marketing_lists"], batch_size=batch_size, max_remove_share=1.0
        )
        steps: list[Step] = []

        def timed(name: str) -> None:
            destination = AudienceApi(config)
            started = time.perf_counter()
            result = sync_destination(warehouse, config, destination, as_of=AS_OF)
            steps.append(Step(name, result.sent, time.perf_counter() - started))
            destination.close()

        timed("full first sync")
        timed("nothing changed")
        changed = members // 100
        warehouse.execute(
            "delete from marts.export_audience_members where record_key in (select record_key "
            f"from marts.export_audience_members order by record_key limit {changed // 2})"
        )
        _export(warehouse, changed - changed // 2, offset=members)
        timed("1% changed")
        delivered = sum(len(m) for m in state.lists.values())
        if delivered != members - changed // 2 + (changed - changed // 2):
            raise RuntimeError(f"the API holds {delivered} members; the export does not match")
        return steps
    finally:
        server.close()
        warehouse.close()


def format_table(members: int, steps: list[Step]) -> str:
    lines = [f"reverse ETL, marketing lists API, {members:,} memberships", ""]
    lines.append(f"  {'step':<18} {'records':>10} {'seconds':>9} {'records/s':>11}")
    for step in steps:
        lines.append(
            f"  {step.name:<18} {step.records:>10,} {step.seconds:>9.2f} {step.per_second:>11,.0f}"
        )
    return "\n".join(lines)


def to_json(members: int, steps: list[Step]) -> str:
    return json.dumps(
        {
            "memberships": members,
            "steps": [
                {**dataclasses.asdict(s), "records_per_second": round(s.per_second)} for s in steps
            ],
        },
        indent=2,
    )
