"""Outbound sequences of a sales-engagement tool: enroll and unenroll by segment membership."""

from __future__ import annotations

from audience.syncs.destinations.audience_api import AudienceApi


class SequenceApi(AudienceApi):
    """An outbound-sequence API over HTTP JSON, shaped like the sequence endpoints of the
    common sales-engagement tools (Outreach's sequence states, Salesloft's cadence
    memberships, Apollo's emailer-campaign contacts): contacts are enrolled in a sequence
    in batches, and unenrolled (stopped) when they leave it.

    POST {url}/sequences/{sequence}/enroll and .../unenroll with {"contacts": [fields...]};
    the answer lists the contacts it refused: {"rejected": [{"email": ..., "reason": ...}]}.
    Enrolling a contact already in the sequence changes nothing there. Mirror semantics,
    batching, the `Idempotency-Key` per batch and the retries are the lists API's.
    """

    batch_key = "contacts"

    def endpoint(self, audience: str, remove: bool) -> str:
        return f"{self.url}/sequences/{audience}/{'unenroll' if remove else 'enroll'}"
