"""A tiny HTTP server on 127.0.0.1 that answers every request with one canned reply, and records requests.

For the guarded outbound client's tests: "an internal service", a redirecting server, a server that trickles
its answer or sends more than the size cap. Real sockets, real HTTP, nothing patched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class CannedReply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = False  # Transfer-Encoding: chunked, one chunk per 1 KiB
    trickle_seconds: float = 0.0  # pause between chunks


@dataclass
class CannedServer:
    reply: CannedReply
    routes: dict[str, CannedReply] = field(default_factory=dict)  # exact path -> reply; else ``reply``
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def canned_http(reply: CannedReply, routes: dict[str, CannedReply] | None = None) -> Iterator[CannedServer]:
    state = CannedServer(reply=reply, routes=routes or {})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            canned = state.routes.get(self.path.split("?", 1)[0], state.reply)
            self.send_response(canned.status)
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            if canned.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(canned.body), 1024):
                    piece = canned.body[start : start + 1024]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                    time.sleep(canned.trickle_seconds)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

        do_POST = do_PUT = do_DELETE = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
