"""A real HTTP authentication service for tests: it records each request and answers what
the test says for the username it carries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class AuthServer:
    port: int = 0
    # username -> (status, body, delay in seconds); others get DEFAULT
    answers: dict[str, tuple[int, Any, float]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    default: tuple[int, Any, float] = (200, {"result": "deny"}, 0.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/auth"

    def answer(self, seen: Seen) -> tuple[int, Any, float]:
        username = seen.query.get("username", [""])[0]
        if seen.body:
            try:
                username = json.loads(seen.body).get("username", username)
            except ValueError:
                username = parse_qs(seen.body.decode()).get("username", [username])[0]
        return self.answers.get(username, self.default)


@contextmanager
def auth_server() -> Iterator[AuthServer]:
    server_state = AuthServer()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            size = int(self.headers.get("content-length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(size),
            )
            server_state.seen.append(seen)
            status, body, delay = server_state.answer(seen)
            time.sleep(delay)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the broker gave up waiting

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
