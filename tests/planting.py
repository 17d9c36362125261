"""Planted people: hand-made raw rows, relative to one as_of, added to a generated data set.

Each planted person has its own anonymous id, user id and email (and CRM records where
asked), so a test can assert where exactly that person ends up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from audience.contract import RAW_TABLES


@dataclass
class Person:
    key: str
    email: str | None
    company_id: str | None

    @property
    def anonymous_id(self) -> str:
        return f"anon_{self.key}"

    @property
    def user_id(self) -> str:
        return f"user_{self.key}"


@dataclass
class Planting:
    as_of: datetime
    rows: dict[str, list[dict[str, str | None]]] = field(default_factory=lambda: defaultdict(list))
    people: dict[str, Person] = field(default_factory=dict)
    counter: int = 0

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_planted_{self.counter}"

    def at(self, days_ago: float = 0, hours_ago: float = 0) -> str:
        moment = self.as_of - timedelta(days=days_ago, hours=hours_ago)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    # accounts ------------------------------------------------------------------------
    def company(
        self,
        company_id: str,
        *,
        industry: str = "other",
        employees: int = 10,
        target: bool = False,
    ) -> str:
        self.rows["crm_companies"].append(
            {
                "company_id": company_id,
                "name": company_id.title(),
                "domain": f"{company_id}.planted.example",
                "industry": industry,
                "employee_count": str(employees),
                "is_target_account": "true" if target else "false",
                "updated_at": self.at(300),
            }
        )
        return company_id

    def subscription(self, company_id: str, status: str, *, renews_in_days: int = 200) -> None:
        self.rows["subscriptions"].append(
            {
                "company_id": company_id,
                "started_at": self.at(400),
                "renews_at": self.at(-renews_in_days),
                "status": status,
                "plan": "growth",
            }
        )

    def usage(self, company_id: str, *, prior_per_day: int, recent_per_day: int) -> None:
        for days_ago in range(60):
            actions = recent_per_day if days_ago <= 30 else prior_per_day
            self.rows["product_usage"].append(
                {
                    "company_id": company_id,
                    "usage_date": (self.as_of - timedelta(days=days_ago)).strftime("%Y-%m-%d"),
                    "active_users": "3",
                    "key_actions": str(actions),
                }
            )

    def intent(self, company_id: str, score: int, *, days_ago: float = 5) -> None:
        self.rows["intent_signals"].append(
            {
                "company_domain": f"{company_id}.planted.example",
                "topic": "customer data platform",
                "score": str(score),
                "observed_at": self.at(days_ago),
            }
        )

    # people ---------------------------------------------------------------------------
    def person(
        self,
        key: str,
        *,
        company_id: str | None = None,
        email: bool = True,
        crm: bool = False,
        persona: str | None = None,
        first_seen_days_ago: float = 300,
        loyalty_tier: str | None = None,
        verified_days_ago: float = 30,
    ) -> Person:
        domain = f"{company_id}.planted.example" if company_id else "shopper.planted.example"
        person = Person(key, f"{key}@{domain}" if email else None, company_id)
        self.people[key] = person
        traits = {"loyalty_tier": loyalty_tier} if loyalty_tier else {}
        self.rows["identifies"].append(
            {
                "id": self._next("identify"),
                "anonymous_id": person.anonymous_id,
                "user_id": person.user_id,
                "email": person.email,
                "timestamp": self.at(first_seen_days_ago),
                "received_at": self.at(first_seen_days_ago),
                "traits": json.dumps(traits),
            }
        )
        if crm:
            self.rows["crm_contacts"].append(
                {
                    "contact_id": self._next("crm"),
                    "email": person.email,
                    "first_name": key,
                    "last_name": "Planted",
                    "persona": persona,
                    "company_id": company_id,
                    "lifecycle_stage": "lead",
                    "owner_id": "O_planted",
                    "created_at": self.at(first_seen_days_ago),
                    "updated_at": self.at(first_seen_days_ago),
                    "firmographics_verified_at": self.at(verified_days_ago),
                }
            )
        return person

    def page(
        self,
        person: Person,
        path: str,
        days_ago: float = 0,
        hours_ago: float = 0,
        *,
        engaged_seconds: int | None = None,
    ) -> None:
        self.rows["pages"].append(
            {
                "id": self._next("page"),
                "anonymous_id": person.anonymous_id,
                "user_id": person.user_id,
                "timestamp": self.at(days_ago, hours_ago),
                "received_at": self.at(days_ago, hours_ago),
                "url": f"https://www.acmesoft.example{path}",
                "path": path,
                "engaged_seconds": None if engaged_seconds is None else str(engaged_seconds),
            }
        )

    def track(
        self,
        person: Person,
        event: str,
        days_ago: float = 0,
        hours_ago: float = 0,
        **properties: object,
    ) -> None:
        self.rows["tracks"].append(
            {
                "id": self._next("track"),
                "anonymous_id": person.anonymous_id,
                "user_id": person.user_id,
                "event": event,
                "timestamp": self.at(days_ago, hours_ago),
                "received_at": self.at(days_ago, hours_ago),
                "properties": json.dumps(properties),
            }
        )

    def email(
        self, person: Person, event: str, days_ago: float, message: str, machine: bool = False
    ) -> None:
        self.rows["email_events"].append(
            {
                "event_id": self._next("email"),
                "email": person.email,
                "event": event,
                "timestamp": self.at(days_ago),
                "campaign_id": "cmp_planted",
                "message_id": message,
                "machine_open": ("true" if machine else "false") if event == "open" else "",
            }
        )

    def esp_event(self, person: Person, event: str, days_ago: float, **fields: str) -> None:
        """One ESP event with the contract's optional fields (bounce_type, reason,
        unsubscribe_group_id), on a message of its own."""
        self.rows["email_events"].append(
            {
                "event_id": self._next("email"),
                "email": person.email,
                "event": event,
                "timestamp": self.at(days_ago),
                "campaign_id": "cmp_planted",
                "message_id": self._next("msg"),
                **fields,
            }
        )

    def opt_out_in_crm(self, person: Person) -> None:
        """The person's CRM records say they opted out of email."""
        rows = [r for r in self.rows["crm_contacts"] if r["first_name"] == person.key]
        assert rows, f"{person.key} has no CRM record"
        for row in rows:
            row["email_opt_out"] = "true"

    def deliveries(self, person: Person, opens: list[str], *, start_days_ago: float = 20) -> None:
        """One delivered email per entry, oldest first: 'human', 'machine' or 'none' opens."""
        for number, kind in enumerate(opens):
            days_ago = start_days_ago - number * 2
            message = f"msg_{person.key}_{number}"
            self.email(person, "delivered", days_ago, message)
            if kind != "none":
                self.email(person, "open", days_ago - 0.01, message, machine=kind == "machine")

    # output ---------------------------------------------------------------------------
    def write_with(self, generated_dir: Path, out_dir: Path) -> Path:
        """Write each raw table as CSV: the generated rows plus the planted ones."""
        out_dir.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        try:
            for name, table in RAW_TABLES.items():
                columns = list(table.columns)
                source = generated_dir / f"{name}.parquet"
                con.execute(
                    f"create or replace table t as select {', '.join(columns)} "
                    f"from read_parquet('{source}')"
                )
                for row in self.rows.get(name, []):
                    values = [row.get(column) for column in columns]
                    con.execute(f"insert into t values ({', '.join('?' for _ in columns)})", values)
                con.execute(f"copy t to '{out_dir / (name + '.csv')}' (header, delimiter ',')")
        finally:
            con.close()
        return out_dir
