"""Local stand-ins for the HTTP destinations, for the tests and the sync benchmark: a
marketing-lists API (batch add / remove members) and a webhook receiver, real servers on a
local port with the failures real ones have (429 with Retry-After, transient 5xx, dying)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class ApiState:
    """What the destination holds and saw; survives a server restart."""

    lists: dict[str, set[str]] = field(default_factory=dict)
    adds: Counter = field(default_factory=Counter)  # (list, email) -> times added
    removes: Counter = field(default_factory=Counter)
    notifications: Counter = field(default_factory=Counter)  # Idempotency-Key -> times
    requests: int = 0
    handled_batches: int = 0
    throttled: int = 0
    # failure injection
    throttle_requests: set[int] = field(default_factory=set)  # request numbers answered 429
    retry_after: int = 1
    error_requests: set[int] = field(default_factory=set)  # request numbers answered 503
    reject_emails: set[str] = field(default_factory=set)
    die_after_batches: int | None = None
    #: a path the server's URL starts with (a webhook's secret path): taken off each
    #: request's path; the query string (`?api_key=`) is ignored
    prefix: str = ""
    #: errors and rejection reasons repeat the request's path and Authorization header, as
    #: careless servers do (what a sync must not write down as it came)
    echo_requests: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    def __init__(self, state: ApiState) -> None:
        self.state = state
        handler = _handler(state, self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
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
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                if server.dead.is_set():
                    self.close_connection = True
                    return
                state.requests += 1
                number = state.requests
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
                path = urlsplit(self.path).path
                if state.prefix and path.startswith(state.prefix):
                    path = path[len(state.prefix) :]
                if path == "/webhook":
                    state.notifications[self.headers.get("Idempotency-Key")] += 1
                    self._answer(200, {"ok": True})
                    return
                parts = path.strip("/").split("/")  # lists/<id>/members/<action>
                if len(parts) != 4 or parts[0] != "lists" or parts[3] not in {"add", "remove"}:
                    self._answer(404, {"error": "no such endpoint"})
                    return
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
                self._answer(200, {"rejected": rejected})
                if state.die_after_batches and state.handled_batches >= state.die_after_batches:
                    server.kill()

    return Handler
