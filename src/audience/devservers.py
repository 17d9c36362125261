"""Local stand-ins for the HTTP destinations, for the tests and the sync benchmark: a
marketing-lists API (batch add / remove members), an outbound-sequence API (enroll /
unenroll contacts) and a webhook receiver, real servers on a
local port with the failures real ones have (429 with Retry-After, transient 5xx, dying,
and, through `fault_plan`, failing before or after processing a request, dropping the
connection, answering too slowly).

Like Stripe-style APIs they honour `Idempotency-Key`: a request whose key was processed
before is answered with the stored first answer and not processed again (a key reused with
another body is refused with 422). What they processed is counted where a test can check
that nothing was lost or applied twice (`adds`, `removes`, `notified`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: the failures `fault_plan` may choose for a request. `_before`: the request is not
#: processed; `_after`: it is processed, then the answer is lost (a gateway's 502, the
#: connection dropped, an answer slower than the client waits)
FAULTS = (
    "error_before",  # 503, not processed
    "error_after",  # processed, then 502
    "drop_before",  # connection closed, not processed
    "drop_after",  # processed, then the connection closed with no answer
    "slow_before",  # waits `slow_seconds`, then processes and answers
    "slow_after",  # processes, waits `slow_seconds`, then answers
    "throttle",  # 429 with Retry-After, not processed
)


@dataclass
class ApiState:
    """What the destination holds and saw; survives a server restart."""

    lists: dict[str, set[str]] = field(default_factory=dict)
    adds: Counter = field(default_factory=Counter)  # (list, email) -> times added
    removes: Counter = field(default_factory=Counter)
    #: outbound sequences: sequence -> external id (else email) -> the contact enrolled
    sequences: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    enrolls: Counter = field(default_factory=Counter)  # (sequence, contact) -> times enrolled
    unenrolls: Counter = field(default_factory=Counter)
    notifications: Counter = field(default_factory=Counter)  # Idempotency-Key -> times
    #: webhook bodies processed (canonical JSON -> times): one record notified twice under
    #: two keys shows here
    notified: Counter = field(default_factory=Counter)
    requests: int = 0
    handled_batches: int = 0
    throttled: int = 0
    # failure injection
    throttle_requests: set[int] = field(default_factory=set)  # request numbers answered 429
    retry_after: int = 1
    error_requests: set[int] = field(default_factory=set)  # request numbers answered 503
    reject_emails: set[str] = field(default_factory=set)
    die_after_batches: int | None = None
    #: request number, path -> a fault of FAULTS (or None): chosen per request
    fault_plan: Callable[[int, str], str | None] | None = None
    faults: Counter = field(default_factory=Counter)  # fault -> times injected
    slow_seconds: float = 0.5
    #: answer a repeated Idempotency-Key with the first answer (False: process every request,
    #: as a receiver that ignores the header does)
    honour_idempotency_keys: bool = True
    #: Idempotency-Key -> (fingerprint of the request, status, body) of its first answer
    answered: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    replayed: int = 0  # requests answered from `answered`
    #: a path the server's URL starts with (a webhook's secret path): taken off each
    #: request's path; the query string (`?api_key=`) is ignored
    prefix: str = ""
    #: errors and rejection reasons repeat the request's path and Authorization header, as
    #: careless servers do (what a sync must not write down as it came)
    echo_requests: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out) before the answer is no error here."""


class Server:
    def __init__(self, state: ApiState) -> None:
        self.state = state
        handler = _handler(state, self)
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # a short poll: closing a server waits for the loop to see it (0.5 s by default)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.dead = threading.Event()

    def kill(self) -> None:
        """Stop answering at once: the next connection is refused."""
        self.dead.set()
        threading.Thread(target=self._stop, daemon=True).start()

    def _stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def close(self) -> None:
        if not self.dead.is_set():
            self.dead.set()
            self._stop()


def _handler(state: ApiState, server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) or b"{}"
            body = json.loads(raw)
            path = urlsplit(self.path).path
            if state.prefix and path.startswith(state.prefix):
                path = path[len(state.prefix) :]
            with state.lock:
                if server.dead.is_set():
                    self.close_connection = True
                    return
                state.requests += 1
                number = state.requests
                fault = state.fault_plan(number, path) if state.fault_plan else None
                if fault:
                    state.faults[fault] += 1
            if fault == "slow_before":
                time.sleep(state.slow_seconds)
            if fault == "drop_before":
                self.close_connection = True
                return
            if fault == "error_before":
                self._answer(503, {"error": "try again"})
                return
            if fault == "throttle":
                with state.lock:
                    state.throttled += 1
                self._answer(429, {"error": "slow down"}, {"Retry-After": str(state.retry_after)})
                return
            with state.lock:
                if number in state.throttle_requests:
                    state.throttled += 1
                    self._answer(
                        429, {"error": "slow down"}, {"Retry-After": str(state.retry_after)}
                    )
                    return
                echoed = (
                    f" (POST {self.path}, Authorization: {self.headers.get('Authorization')})"
                    if state.echo_requests
                    else ""
                )
                if number in state.error_requests:
                    self._answer(503, {"error": f"try again{echoed}"})
                    return
                status, answer = self._process(path, body, raw, echoed)
            if fault == "error_after":
                self._answer(502, {"error": "bad gateway"})
                return
            if fault == "drop_after":
                self.close_connection = True
                return
            if fault == "slow_after":
                time.sleep(state.slow_seconds)
            self._answer(status, answer)
            if state.die_after_batches and state.handled_batches >= state.die_after_batches:
                server.kill()

        def _process(
            self, path: str, body: dict[str, Any], raw: bytes, echoed: str
        ) -> tuple[int, dict[str, Any]]:
            """Process the request once per Idempotency-Key (the caller holds the lock)."""
            key = self.headers.get("Idempotency-Key")
            fingerprint = hashlib.sha256(f"{path}\n".encode() + raw).hexdigest()
            if key and state.honour_idempotency_keys and key in state.answered:
                first, status, answer = state.answered[key]
                if first != fingerprint:
                    return 422, {"error": "Idempotency-Key reused with another request"}
                state.replayed += 1
                return status, answer
            status, answer = self._apply(path, body, echoed)
            if key and status < 300:  # what was processed, the way Stripe stores it
                state.answered[key] = (fingerprint, status, answer)
            return status, answer

        def _apply(self, path: str, body: dict[str, Any], echoed: str) -> tuple[int, dict]:
            if path == "/webhook":
                state.notifications[self.headers.get("Idempotency-Key")] += 1
                state.notified[json.dumps(body, sort_keys=True)] += 1
                return 200, {"ok": True}
            parts = path.strip("/").split("/")  # lists/<id>/members/<action>
            if len(parts) == 3 and parts[0] == "sequences" and parts[2] in {"enroll", "unenroll"}:
                return self._sequence(parts[1], parts[2], body, echoed)
            if len(parts) != 4 or parts[0] != "lists" or parts[3] not in {"add", "remove"}:
                return 404, {"error": "no such endpoint"}
            members = state.lists.setdefault(parts[1], set())
            rejected = []
            for member in body.get("members", []):
                email = member.get("email")
                if email in state.reject_emails:
                    rejected.append({"email": email, "reason": f"invalid address{echoed}"})
                elif parts[3] == "add":
                    members.add(email)
                    state.adds[(parts[1], email)] += 1
                else:
                    members.discard(email)
                    state.removes[(parts[1], email)] += 1
            state.handled_batches += 1
            return 200, {"rejected": rejected}

        def _sequence(
            self, sequence: str, action: str, body: dict[str, Any], echoed: str
        ) -> tuple[int, dict]:
            """Enroll or unenroll contacts (by external id, else email): enrolling one
            already in the sequence changes nothing, as the sales-engagement tools do."""
            enrolled = state.sequences.setdefault(sequence, {})
            rejected = []
            for contact in body.get("contacts", []):
                email = contact.get("email")
                who = contact.get("external_id") or email
                if email in state.reject_emails:
                    rejected.append({"email": email, "reason": f"invalid address{echoed}"})
                elif action == "enroll":
                    if who not in enrolled:
                        state.enrolls[(sequence, who)] += 1
                    enrolled[who] = contact
                elif enrolled.pop(who, None) is not None:
                    state.unenrolls[(sequence, who)] += 1
            state.handled_batches += 1
            return 200, {"rejected": rejected}

    return Handler
