"""The HTTP session the HTTP destinations share: urllib3's Retry for backoff, Retry-After on
429 and transient 5xx, but only for requests it is safe to send twice.

A POST that reached the server may have been processed even when its answer never came back
(the connection dropped, the answer was slow, a gateway answered 502 after the origin took
it). Sending it again blindly adds list members twice and notifies twice. So a request is
retried after it was sent only when repeating it cannot apply it twice: its method is
idempotent (GET, HEAD, PUT, DELETE, OPTIONS) or it carries an `Idempotency-Key`, which the
receiver must honour by answering a key it has seen with its first answer. Any request is
retried when the connection could not be made at all (nothing reached the server).
"""

from __future__ import annotations

from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: methods whose repetition has the effect of one request (RFC 9110, 9.2.2)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
#: how long a destination waits for an answer, unless its `timeout_seconds` option says
DEFAULT_TIMEOUT = 30.0


def safe_to_repeat(request: PreparedRequest) -> bool:
    """Whether sending `request` again cannot apply it twice at the receiver."""
    method = (request.method or "").upper()
    return method in IDEMPOTENT_METHODS or bool(request.headers.get(IDEMPOTENCY_HEADER))


class IdempotentRetryAdapter(HTTPAdapter):
    """Retries (backoff, Retry-After, 5xx, dropped connections) for the requests that are
    safe to repeat; for the others, only a connection that could not be made is retried.

    requests hands the adapter's one `max_retries` to urllib3, so the adapter picks the policy
    per request before sending. A session is used by one thread at a time (a destination's
    run), which is what makes setting it per request sound."""

    def __init__(self, retry: Retry) -> None:
        super().__init__(max_retries=retry)
        self.repeatable = retry
        # a request not safe to repeat is neither of these methods: urllib3 then retries only
        # a connection that could not be made (read errors and statuses need the method)
        self.unrepeatable = retry.new(allowed_methods=IDEMPOTENT_METHODS)

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        self.max_retries = self.repeatable if safe_to_repeat(request) else self.unrepeatable
        return super().send(request, *args, **kwargs)


def _http_session(token: str | None, *, backoff_seconds: float = 0.2) -> Any:
    import requests

    retry = Retry(
        total=8,
        connect=2,
        backoff_factor=backoff_seconds,
        backoff_max=10,
        status_forcelist=(429, 500, 502, 503, 504),
        # POST too, but IdempotentRetryAdapter lets it repeat only with an Idempotency-Key
        allowed_methods=frozenset({*IDEMPOTENT_METHODS, "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", IdempotentRetryAdapter(retry))
    session.mount("https://", IdempotentRetryAdapter(retry))
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def http_settings(options: dict[str, Any]) -> tuple[float, float]:
    """(timeout, backoff) in seconds from a destination's options (`timeout_seconds`,
    `backoff_seconds`): a slow answer is given up on after the timeout and, when safe, sent
    again."""
    return (
        float(options.get("timeout_seconds", DEFAULT_TIMEOUT)),
        float(options.get("backoff_seconds", 0.2)),
    )
