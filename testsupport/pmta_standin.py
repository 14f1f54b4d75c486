"""A local stand-in for a PMTA host's web monitor (UG5 ch.5), for tests and demos (stdlib only).

    with PmtaStandin(api_key="k") as pmta:
        server.mgmt_url = pmta.url          # http://127.0.0.1:PORT
        pmta.mode = "slow"                  # "ok" | "garbage" | "slow" | "500"
        pmta.queues = [standin_queue("gmail.com/vmta-1", rcp=40, mode="backoff")]

What it serves, from the documented behaviour:
- ``GET /status?format=json``: UG5 5.3's JSON, ``{"data": {"mta": ..., "status": {...}}, "status": "success",
  "message": ""}`` with ``traffic.{total,lastHr,lastMin}.{in,out}.{rcp,msg,kb}``, ``conn.{smtpIn,smtpOut}
  .{cur,max,top}`` and ``queue.smtp.{rcp,dom,kb}``; ``format=xml`` gives the ``<rsp><data>…</data><succ/>
  </rsp>`` form.
- ``GET /queues?format=json``: the queue document of ``pmta --dom show topqueues``
  (``data.queue[i].{name,rcp,kb,conn,event[],paused,mode,retryTime}``), which is what ips/health.py assumes.
- ``X-API-Key`` is checked when ``api_key`` is set (``http-api-key``); a missing or wrong key gets 401.

Modes: "ok" answers as above; "garbage" answers 200 with bytes that are neither JSON nor XML; "slow" sleeps
``slow_seconds`` before answering (longer than the client's timeout); "500" answers an internal error.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

__all__ = ["MODES", "PmtaStandin", "standin_queue"]

MODES = ("ok", "garbage", "slow", "500")


def standin_queue(
    name: str, *, rcp: int = 10, mode: str = "normal", conn: int = 0, error: str = ""
) -> dict[str, Any]:
    events = [{"type": "error", "time": "2025-07-10 11:58:57", "text": error}] if error else []
    return {
        "name": name,
        "rcp": rcp,
        "kb": round(rcp * 9.7, 1),
        "conn": conn,
        "event": events,
        "paused": False,
        "mode": mode,
        "retryTime": "2025-07-10 12:08:57",
    }


def _counts(rcp: int, msg: int, kb: float) -> dict[str, Any]:
    return {"rcp": rcp, "msg": msg, "kb": kb}


class PmtaStandin:
    def __init__(self, *, api_key: str = "", mode: str = "ok", slow_seconds: float = 2.0) -> None:
        self.api_key = api_key
        self.mode = mode
        # "xml" answers XML whatever ?format= asks for, like a monitor that ignores the parameter.
        self.force_format = ""
        self.slow_seconds = slow_seconds
        self.hour_out_rcp = 348704
        self.hour_out_msg = 348700
        self.smtp_out_cur = 11
        self.queued_rcp = 805
        self.queued_domains = 226
        self.queues: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, lower-cased headers) seen
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- documents ------------------------------------------------------------------------------------

    def status_document(self) -> dict[str, Any]:
        return {
            "data": {
                "mta": {
                    "product": {"name": "PowerMTA", "version": "5.0r1", "bits": 64},
                    "fullHostName": "standin.example.net",
                    "hostId": 0,
                },
                "status": {
                    "timeNow": "2025-07-10 12:00:00",
                    "startupTime": "2025-07-10 06:00:00",
                    "shuttingDown": False,
                    "traffic": {
                        "total": {"out": _counts(2007007, 2007007, 1370100.3), "in": _counts(1, 1, 1.0)},
                        "lastHr": {
                            "out": _counts(self.hour_out_rcp, self.hour_out_msg, 142245.3),
                            "in": _counts(348700, 4936, 33.7),
                        },
                        "lastMin": {"out": _counts(5809, 5809, 2372.6), "in": _counts(5800, 81, 0.6)},
                    },
                    "conn": {
                        "smtpIn": {"cur": 1, "max": 5, "top": 1},
                        "smtpOut": {"cur": self.smtp_out_cur, "max": 1200, "top": 157},
                    },
                    "queue": {
                        "smtp": {"rcp": self.queued_rcp, "dom": self.queued_domains, "kb": 5.5},
                        "pipe": {"rcp": 0, "dom": 0, "kb": 0},
                    },
                    "status": "running",
                },
            },
            "status": "success",
            "message": "",
        }

    def queues_document(self) -> dict[str, Any]:
        return {
            "data": {
                "title": f"Top {len(self.queues)} queues by number of recipients",
                "queue": self.queues,
                "totalRcp": sum(int(q.get("rcp", 0)) for q in self.queues),
                "totalQueuesWithRcp": len(self.queues),
            },
            "status": "success",
            "message": "",
        }

    # --- server ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PmtaStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

            def do_GET(self) -> None:
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, name="pmta-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PmtaStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.requests.append((parts.path, {k.lower(): v for k, v in handler.headers.items()}))
        fmt = self.force_format or parse_qs(parts.query).get("format", ["html"])[0]
        if self.api_key and handler.headers.get("X-API-Key") != self.api_key:
            self._send(handler, 401, "text/plain", b"401 Unauthorized\n")
            return
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        elif self.mode == "500":
            self._send(handler, 500, "text/plain", b"500 Internal Server Error\n")
            return
        elif self.mode == "garbage":
            self._send(handler, 200, "application/json", b"\x00\x93 this is not a PMTA reply }{")
            return
        if parts.path == "/status":
            doc = self.status_document()
        elif parts.path == "/queues":
            doc = self.queues_document()
        else:
            self._send(handler, 404, "text/plain", b"404 Not Found\n")
            return
        if fmt == "xml":
            self._send(handler, 200, "text/xml", _to_xml(doc).encode())
        else:
            self._send(handler, 200, "application/json", json.dumps(doc).encode())

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, code: int, content_type: str, body: bytes) -> None:
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to answer


def _xml_value(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml_value(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return "".join(_xml_value(tag, item) for item in value)
    if isinstance(value, bool):
        value = int(value)
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _to_xml(doc: dict[str, Any]) -> str:
    tail = "<succ/>" if doc.get("status") == "success" else f"<error>{escape(doc.get('message', ''))}</error>"
    return "<rsp>" + _xml_value("data", doc.get("data", {})) + tail + "</rsp>"
