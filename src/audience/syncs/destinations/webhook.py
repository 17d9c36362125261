"""The lead-routing webhook: one POST per record."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from audience.syncs.changes import Change, Delivery
from audience.syncs.config import DestinationConfig, SyncError
from audience.syncs.destinations.http import IDEMPOTENCY_HEADER, _http_session, http_settings
from audience.syncs.state import StateReader

#: client errors that say "not now" rather than "never": too many requests, and a request
#: with the same key still being processed (409); they fail the run instead of rejecting
TRANSIENT_4XX = frozenset({408, 409, 425, 429})


class Webhook:
    """Lead-routing notifications: one POST per record, each with its own Idempotency-Key.

    The key is derived from the destination, the record and its payload fingerprint, and
    recorded in flight before the POST; each record is recorded as delivered right after its
    2xx (`send_each`), not at the end of a batch, so a failure or a crash midway re-sends
    nothing that was acknowledged, and the one record whose answer was lost is re-sent with
    the same key (and the same body) for the receiver to recognise.
    """

    #: one key per record, recorded in sync_state.in_flight by the run
    idempotency = "record"
    #: the run records each record's answer as it comes
    acks_each_record = True

    def __init__(self, config: DestinationConfig) -> None:
        url = config.env("url_env")
        if not url:
            raise SyncError(f"{config.name}: set {config.options.get('url_env')} to the URL")
        self.url = url
        self.timeout, backoff = http_settings(config.options)
        self.session = _http_session(config.env("token_env"), backoff_seconds=backoff)

    def send_each(self, changes: Sequence[Change]) -> Iterator[tuple[Change, str | None]]:
        """Each record and the receiver's answer: None when it took it, else why not. A
        transient failure (5xx, 429, 409 after the retries, no answer) raises: the record
        stays in flight and the next run sends it again with its key."""
        for change in changes:
            response = self.session.post(
                self.url,
                json={"event": "lead_routed", **change.fields},
                headers={IDEMPOTENCY_HEADER: change.idempotency_key or change.record_key},
                timeout=self.timeout,
            )
            status = response.status_code
            if status < 300:
                yield change, None
            elif 400 <= status < 500 and status not in TRANSIENT_4XX:
                yield change, f"HTTP {status}"
            else:
                raise SyncError(f"HTTP {status}: {response.text[:300]}")

    def send(self, changes: Sequence[Change]) -> Delivery:
        delivery = Delivery()
        for change, reason in self.send_each(changes):
            if reason is None:
                delivery.acked.append(change.record_key)
            else:
                delivery.rejected[change.record_key] = reason
        return delivery

    def finish(self, state: StateReader) -> None:
        pass

    def close(self) -> None:
        self.session.close()
