"""The raw data contract: the tables the warehouse reads and the columns each must carry.

Everything is landed as text. Types are applied in dbt staging, where a value that does not
parse becomes a quarantine row with its reason instead of a failed load.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Columns the loader adds to every raw row, for lineage and for idempotent re-loads.
LINEAGE_COLUMNS: tuple[str, ...] = ("_source_file", "_source_row_number", "_loaded_at")

#: The file formats the loader reads, by suffix (the demo data generator writes each of them).
FILE_FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")

#: Formats the loader also reads gzipped (`<table>.csv.gz`, `<table>.jsonl.gz`).
GZIP_FORMATS: frozenset[str] = frozenset({"csv", "jsonl", "txt"})

#: Whitespace-separated text (`.txt`), read for the sources that say so (transactions).
TEXT_FORMAT = "txt"

#: Columns that hold JSON text (staging parses them; a value that does not parse is
#: quarantined as malformed_json).
JSON_COLUMNS: frozenset[str] = frozenset({"properties", "traits"})


@dataclass(frozen=True)
class RawTable:
    """One table of the raw contract."""

    name: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "pages",
            "Page views in the Segment / RudderStack warehouse shape.",
            required=("id", "anonymous_id", "user_id", "timestamp", "received_at", "url", "path"),
            optional=(
                "name",
                "title",
                "referrer",
                "context_user_agent",
                "session_id",
                "engaged_seconds",
                "last_active_at",
            ),
        ),
        RawTable(
            "tracks",
            "Tracked events in the Segment / RudderStack warehouse shape; properties as JSON text.",
            required=("id", "anonymous_id", "user_id", "event", "timestamp", "received_at"),
            optional=("properties", "session_id"),
        ),
        RawTable(
            "identifies",
            "Identify calls linking an anonymous id to a user id and an email.",
            required=("id", "anonymous_id", "user_id", "email", "timestamp"),
            optional=("received_at", "traits"),
        ),
        RawTable(
            "email_events",
            "ESP webhook events (SendGrid-style): processed, delivered, open, click, bounce, ...",
            required=("event_id", "email", "event", "timestamp", "campaign_id", "message_id"),
            optional=(
                "url",
                "machine_open",
                "bounce_type",
                "unsubscribe_group_id",
                "reason",
                "contact_id",
            ),
        ),
        RawTable(
            "crm_contacts",
            "A CRM contact export (HubSpot / Salesforce style).",
            required=("contact_id", "email", "created_at"),
            optional=(
                "company_id",
                "updated_at",
                "company_name",
                "email_opt_out",
                "merged_into_contact_id",
                "first_name",
                "last_name",
                "job_title",
                "persona",
                "lifecycle_stage",
                "owner_id",
                "firmographics_verified_at",
            ),
        ),
        RawTable(
            "crm_companies",
            "A CRM company export.",
            required=("company_id", "name", "domain"),
            optional=(
                "updated_at",
                "industry",
                "employee_count",
                "annual_revenue",
                "country",
                "is_target_account",
            ),
        ),
        RawTable(
            "crm_deals",
            "CRM opportunities.",
            required=("deal_id", "company_id", "stage", "created_at"),
            optional=("contact_id", "amount", "closed_at", "is_won"),
        ),
        RawTable(
            "product_usage",
            "Daily product usage per customer account.",
            required=("company_id", "usage_date", "active_users", "key_actions"),
        ),
        RawTable(
            "subscriptions",
            "Customer contracts.",
            required=("company_id", "started_at", "status"),
            optional=("renews_at", "plan"),
        ),
        RawTable(
            "intent_signals",
            "Third-party intent data per company domain and topic.",
            required=("company_domain", "topic", "score", "observed_at"),
        ),
    )
}
