"""Health polling of PMTA hosts through their web monitor (UG5 ch.5).

Two GETs per poll, both with ``X-API-Key`` when the server has one (``http-api-key``):

- ``{mgmt_url}/status?format=json``, documented in UG5 5.3: top level ``"status": "success"``, and
  ``data.status`` holding ``traffic.lastHr.out.{rcp,msg}``, ``conn.smtpOut.cur`` and
  ``queue.smtp.{rcp,dom}``. The XML form (``<rsp><data><status>...</status></data><succ/></rsp>``) is read
  too, for a monitor that ignores ``format=json``.
- ``{mgmt_url}/queues?format=json``. UG5 documents the page but not its JSON; we assume the document that
  ``pmta --dom show topqueues`` prints (``data.queue[i].{name,rcp,mode,...}``, see ips/topqueues.py), and
  read it tolerantly (a single queue instead of a list, string numbers, a ``queues`` key, or XML). Queues
  whose ``mode`` is ``backoff`` are the ones reported. The page lists the top queues only
  (``http-default-max-items``), so the backoff list covers those.

A server that refuses, times out, redirects, answers an HTTP error or anything unreadable is "down", with
the reason in ``error``: ``poll_server`` never raises for what the remote end does. Requests go through
the guarded client (core/outbound.py): redirects are not followed, so the API key is never sent to another
address (PMTA 5 redirects HTTP to HTTPS by default: configure the https:// URL), and a management URL on a
link-local address (cloud metadata) is refused.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.outbound import OutboundError, OutboundRefused, outbound_request
from ips.models import MtaServer
from ips.topqueues import TopQueuesError, queues_from_document

__all__ = ["HealthResult", "poll_server", "server_health_poll", "server_health_store"]

logger = logging.getLogger(__name__)

MAX_REPLY_BYTES = 5 * 1024 * 1024
MAX_BACKOFF_STORED = 200
SYSTEM_ACTOR = "system: health poll"


@dataclass
class HealthResult:
    up: bool | None  # None: not pollable (no management URL), which is "unknown", not "down"
    error: str = ""
    checked_at: datetime = field(default_factory=timezone.now)
    traffic_hour_out_msg: int | None = None
    traffic_hour_out_rcp: int | None = None
    smtp_out_conn: int | None = None
    queued_rcp: int | None = None
    queued_domains: int | None = None
    backoff_queues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "unknown" if self.up is None else ("up" if self.up else "down")


class _PollError(Exception):
    """Why a reply is not a usable PMTA answer; the message is shown to operators."""


def _get(url: str, api_key: str, timeout: float) -> bytes:
    headers = {"Accept": "application/json, application/xml;q=0.5", "User-Agent": "EmailEngine-health"}
    if api_key:
        headers["X-API-Key"] = api_key
    # The one guarded client (core/outbound.py). Only operators set management URLs, and PMTA hosts live on
    # loopback and private networks, so those are allowed; link-local (cloud metadata) is still refused.
    try:
        reply = outbound_request(
            "GET", url, headers=headers, timeout=timeout, max_bytes=MAX_REPLY_BYTES, operator_configured=True
        )
    except OutboundRefused as exc:
        if exc.status is not None:  # a redirect: operators may see where it pointed
            raise _PollError(
                f"redirected ({exc.status}) to {exc.location}; set the management URL to that address"
            ) from None
        raise _PollError(str(exc)) from None
    except OutboundError as exc:
        raise _PollError(str(exc)) from None
    if reply.status >= 400:
        reason = "API key refused" if reply.status in (401, 403) else _phrase(reply.status)
        raise _PollError(f"HTTP {reply.status} ({reason})")
    return reply.body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _xml_to_obj(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    obj: dict[str, Any] = {}
    for child in children:
        value = _xml_to_obj(child)
        if child.tag in obj:
            existing = obj[child.tag]
            obj[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            obj[child.tag] = value
    return obj


def _decode(body: bytes, what: str) -> dict[str, Any]:
    """The reply as {"status": "success"|..., "data": {...}, "message": ...}, from JSON or PMTA's XML."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("<"):
        try:
            root = ET.fromstring(text)  # noqa: S314 - see the import
        except ET.ParseError as exc:
            raise _PollError(f"{what}: unreadable XML ({exc})") from None
        if root.tag != "rsp":
            raise _PollError(f"{what}: not a PMTA reply (root element <{root.tag}>)")
        data = root.find("data")
        return {
            "status": "success" if root.find("succ") is not None else "error",
            "data": _xml_to_obj(data) if data is not None else {},
            "message": (root.findtext("error") or "").strip(),
        }
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        preview = text[:60].replace("\n", " ")
        raise _PollError(f"{what}: not JSON (starts with {preview!r})") from None
    if not isinstance(doc, dict):
        raise _PollError(f"{what}: expected a JSON object")
    return doc


def _require_success(doc: dict[str, Any], what: str) -> Any:
    status = doc.get("status")
    if status != "success":
        message = doc.get("message") or doc.get("error") or ""
        raise _PollError(f"{what}: PMTA says {status!r} {message}".strip())
    return doc.get("data")


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _num(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return None
    return None


def _read_status(result: HealthResult, doc: dict[str, Any]) -> None:
    data = _require_success(doc, "/status")
    status = _dig(data, "status")
    if not isinstance(status, dict):
        raise _PollError("/status: reply has no data.status")
    result.traffic_hour_out_rcp = _num(_dig(status, "traffic", "lastHr", "out", "rcp"))
    result.traffic_hour_out_msg = _num(_dig(status, "traffic", "lastHr", "out", "msg"))
    result.smtp_out_conn = _num(_dig(status, "conn", "smtpOut", "cur"))
    result.queued_rcp = _num(_dig(status, "queue", "smtp", "rcp"))
    result.queued_domains = _num(_dig(status, "queue", "smtp", "dom"))


def _read_queues(result: HealthResult, doc: dict[str, Any]) -> None:
    data = _require_success(doc, "/queues")
    try:
        queues = queues_from_document(data if data is not None else {})
    except TopQueuesError as exc:
        raise _PollError(f"/queues: {exc}") from None
    backoff = sorted(queues.backoff, key=lambda q: (-q.recipients, q.name))
    result.backoff_queues = [
        {"name": q.name, "domain": q.domain, "vmta": q.vmta, "rcp": q.recipients, "last_error": q.last_error}
        for q in backoff[:MAX_BACKOFF_STORED]
    ]


def poll_server(server: MtaServer, timeout: float = 5) -> HealthResult:
    """Ask ``server``'s web monitor for its status and backoff queues; never raises for remote failures."""
    base = (server.mgmt_url or "").strip().rstrip("/")
    if not base:
        return HealthResult(up=None, error="no management URL configured")
    if urlsplit(base).scheme not in ("http", "https"):
        return HealthResult(up=False, error=f"management URL must be http(s): {base}")
    api_key = server.mgmt_api_key or ""
    result = HealthResult(up=False)
    try:
        _read_status(result, _decode(_get(f"{base}/status?format=json", api_key, timeout), "/status"))
    except _PollError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:  # the contract is "down with a reason", whatever the remote end did
        logger.exception("unexpected error polling %s /status", server.name)
        result.error = f"/status: {exc.__class__.__name__}: {exc}"
        return result
    result.up = True
    try:
        _read_queues(result, _decode(_get(f"{base}/queues?format=json", api_key, timeout), "/queues"))
    except _PollError as exc:
        # The host answers, so it is up; only the backoff list is unknown.
        result.error = f"queues not read: {exc}"
    except Exception as exc:
        logger.exception("unexpected error polling %s /queues", server.name)
        result.error = f"queues not read: {exc.__class__.__name__}: {exc}"
    return result


HEALTH_FIELDS = [
    "health_checked_at",
    "health_up",
    "health_error",
    "health_traffic_hour_out_msg",
    "health_traffic_hour_out_rcp",
    "health_smtp_out_conn",
    "health_queued_rcp",
    "health_queued_domains",
    "health_backoff_queues",
]


@transaction.atomic
def server_health_store(*, server: MtaServer, result: HealthResult) -> MtaServer:
    """Write the poll onto the server; audit only when it goes from up to down or back."""
    before = server.health_up
    server.health_checked_at = result.checked_at
    server.health_up = result.up
    server.health_error = result.error[:2000]
    server.health_traffic_hour_out_msg = result.traffic_hour_out_msg
    server.health_traffic_hour_out_rcp = result.traffic_hour_out_rcp
    server.health_smtp_out_conn = result.smtp_out_conn
    server.health_queued_rcp = result.queued_rcp
    server.health_queued_domains = result.queued_domains
    server.health_backoff_queues = result.backoff_queues
    server.save(update_fields=HEALTH_FIELDS)
    if before is not None and result.up is not None and before != result.up:
        audit_record(
            action="server.health",
            by=SYSTEM_ACTOR,
            obj=server,
            before={"health": "up" if before else "down"},
            after={"health": result.label},
            reason=result.error[:300],
        )
    return server


def server_health_poll(*, server: MtaServer, timeout: float = 5) -> HealthResult:
    """Poll now and store the result (the network call happens outside any transaction)."""
    result = poll_server(server, timeout=timeout)
    server_health_store(server=server, result=result)
    return result
