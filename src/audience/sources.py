"""Where a folder of files comes from: the raw contract, or a vendor's own export.

`audience load DIR --source NAME` lands a vendor's files in the vendor's own shape, in the
schema `raw_<name>`: every column of every file, as text, plus the loader's lineage columns.
The dbt adapters that read these schemas into the contract's shape live with the models.
"""

from __future__ import annotations

from dataclasses import dataclass

from audience.contract import FILE_FORMATS, TEXT_FORMAT

#: The name of the default source: files in the shape of the raw data contract.
CONTRACT_NAME = "contract"


class UnknownSource(ValueError):
    """A source name that is not in the registry; the message lists the known ones."""


@dataclass(frozen=True)
class Source:
    """One source of raw files: its name, what it is, the schema its files land in (by
    default `raw_<name>`) and the file formats the loader reads for it."""

    name: str
    description: str
    schema: str = ""
    formats: tuple[str, ...] = FILE_FORMATS

    def __post_init__(self) -> None:
        if not self.schema:
            object.__setattr__(self, "schema", f"raw_{self.name}")

    @property
    def is_contract(self) -> bool:
        """True for the raw contract (schema raw, the contract's columns only)."""
        return self.name == CONTRACT_NAME


CONTRACT = Source(
    CONTRACT_NAME,
    "Files in the shape of the raw data contract (src/audience/contract.py), in schema raw.",
    schema="raw",
)

#: The vendors whose exports `--source` lands as they are, by name.
VENDOR_SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "segment",
            "Segment warehouse tables: tracks, pages, identifies, groups and one table per "
            "tracked event, properties and traits as columns.",
        ),
        Source(
            "rudderstack",
            "RudderStack warehouse tables, in the Segment shape: tracks, pages, identifies and "
            "one table per tracked event.",
        ),
        Source(
            "snowplow",
            "Snowplow atomic events: one wide events table (130+ columns).",
        ),
        Source(
            "ga4",
            "Google Analytics 4 BigQuery export: date-sharded events_YYYYMMDD tables with nested "
            "event_params, device, geo and items.",
        ),
        Source(
            "sendgrid",
            "SendGrid Event Webhook posts, one JSON object per line (category arrays).",
        ),
        Source("hubspot", "HubSpot CRM objects and email events, as Fivetran lands them."),
        Source("marketo", "Marketo leads, programs and activities, as Fivetran lands them."),
        Source(
            "mailchimp",
            "Mailchimp members, campaigns, recipients and their activity, as Fivetran lands them.",
        ),
        Source("klaviyo", "Klaviyo people and events (metric names), as Fivetran lands them."),
        Source(
            "salesforce",
            "Salesforce objects: Fivetran's snake_case tables, or Data Loader CSV files with API "
            "names as headers.",
        ),
        Source(
            "transactions",
            "Purchase transactions (customer, date, quantity, amount), also as whitespace-"
            "separated .txt files such as the CDNOW sample.",
            formats=(*FILE_FORMATS, TEXT_FORMAT),
        ),
    )
}

#: Every source `--source` takes, the contract first.
SOURCES: dict[str, Source] = {CONTRACT_NAME: CONTRACT, **VENDOR_SOURCES}


def get_source(name: str) -> Source:
    """The source of this name; an UnknownSource error naming the known ones otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise UnknownSource(
            f"unknown source {name!r}; the known sources are: {', '.join(SOURCES)}"
        ) from None
