"""A local stand-in for MailWizz's API (stdlib only), for tests and demos.

    with MailWizzStandin(api_key="pub", private_key="priv", auth="mw1") as mw:
        client = MailWizzClient(base_url=mw.url, api_key="pub", private_key="priv", mode="mw1")
        mw.add_campaign("cu1", name="Spring sale", list_uid="lu1")
        mw.add_subscriber("lu1", "a@example.com")
        mw.mode = "slow"            # "ok" | "slow" | "500" | "garbage"
        mw.fail_next(2, status=500) # the next two API calls answer 500

It serves ``mw.url`` = ``http://127.0.0.1:PORT/api`` with the documented endpoints (PMTA-NOTES section 4):
``GET campaigns`` (page, per_page; data.count, total_pages, current_page, next_page, prev_page, records[]),
``GET campaigns/{uid}`` (data.record), ``GET lists/{list_uid}/subscribers/search-by-email?EMAIL=``
(data.subscriber_uid, data.status), ``POST campaigns/{uid}/bounces`` (message <= 250 chars, bounce_type
hard|soft|internal, subscriber_uid) and ``PUT lists/subscribers/unsubscribe-by-email-from-all-lists``
(EMAIL). Replies are ``{"status": "success", "data": ...}`` or ``{"status": "error", "error": ...}``.

Auth, checked on every call:
- ``auth="mw2"``: ``X-API-KEY`` (or the older ``X-MW-PUBLIC-KEY``) must equal ``api_key``.
- ``auth="mw1"``: ``X-MW-PUBLIC-KEY`` must equal ``api_key``, ``X-MW-TIMESTAMP`` be within 5 minutes, and
  ``X-MW-SIGNATURE`` equal hex HMAC-SHA1 (key = private key) of ``"METHOD url?params"`` where url is the
  URL as received (with its query string; ``&`` joins when it has one) and params are the X-MW-PUBLIC-KEY,
  X-MW-TIMESTAMP and X-MW-REMOTE-ADDR headers plus the form body, sorted by name and form-encoded.
  Computed here independently of mailwizz/client.py.
A wrong key or signature gets 401 with MailWizz's error JSON.

``version="1.3.8.3"`` serves that release's route table (MW1 ``apps/api/config/main.php``): no ``POST
campaigns/{uid}/bounces`` and no ``PUT lists/subscribers/unsubscribe-by-email-from-all-lists`` (a route it
lacks answers like any unknown path, naming the path as Yii does). Every version also serves
``GET lists/subscribers/search-by-email-in-all-lists?EMAIL=`` (data.records[] with subscriber_uid and
list.list_uid, since 1.3.6.2) and ``PUT lists/{list_uid}/subscribers/{subscriber_uid}/unsubscribe``
(MW1 List_subscribersController), which record into ``list_unsubscribes``.

Everything received is kept in ``requests`` (and the effects in ``bounces`` and ``unsubscribes``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

__all__ = ["MODES", "MailWizzStandin"]

MODES = ("ok", "slow", "500", "garbage")
API_PREFIX = "/api"
TIMESTAMP_SKEW = 300


class MailWizzStandin:
    def __init__(
        self,
        *,
        api_key: str = "test-key",
        private_key: str = "",
        auth: str = "mw2",
        slow_seconds: float = 2.0,
        version: str = "2.1.13",
    ) -> None:
        if auth not in ("mw1", "mw2"):
            raise ValueError(auth)
        self.version = version
        self.list_unsubscribes: list[tuple[str, str]] = []  # (list uid, email)
        self.api_key = api_key
        self.private_key = private_key
        self.auth = auth
        self.mode = "ok"
        self.slow_seconds = slow_seconds
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, str]] = {}  # list uid -> {email: subscriber uid}
        self.requests: list[dict[str, Any]] = []
        self.bounces: list[dict[str, str]] = []
        self.unsubscribes: list[str] = []
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- data -----------------------------------------------------------------------------------------

    def add_campaign(
        self,
        uid: str,
        *,
        name: str = "",
        status: str = "sent",
        list_uid: str = "",
        list_name: str = "",
        send_at: str = "2025-07-01 10:00:00",
    ) -> dict[str, Any]:
        record = {
            "campaign_uid": uid,
            "name": name or f"Campaign {uid}",
            "type": "regular",
            "status": status,
            "group": None,
            "send_at": send_at,
            "date_added": send_at,
            "list": {"list_uid": list_uid, "name": list_name or f"List {list_uid}", "subscribers_count": 0},
        }
        self.campaigns[uid] = record
        if list_uid:
            self.lists.setdefault(list_uid, {})
        return record

    def add_subscriber(self, list_uid: str, email: str) -> str:
        subs = self.lists.setdefault(list_uid, {})
        subs.setdefault(email.lower(), "su" + hashlib.sha256(f"{list_uid}:{email}".encode()).hexdigest()[:11])
        return subs[email.lower()]

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """The next `count` authenticated API calls answer `status` with an error body."""
        with self._lock:
            self._fail.extend([status] * count)

    def calls(self, method: str | None = None, path_contains: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r["method"] == method) and path_contains in r["path"]
            ]

    # --- server ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def start(self) -> MailWizzStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

            def do_GET(self) -> None:
                standin._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MailWizzStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- requests -------------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode() if length else ""
        parts = urlsplit(h.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = dict(parse_qsl(body, keep_blank_values=True))
        headers = {k.lower(): v for k, v in h.headers.items()}
        auth_error = self._auth_error(h.command, h.path, headers, form)
        record = {
            "method": h.command,
            "path": parts.path,
            "query": query,
            "form": form,
            "headers": headers,
            "auth_ok": not auth_error,
        }
        with self._lock:
            self.requests.append(record)
            fail = self._fail.pop(0) if (self._fail and not auth_error) else None
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        if self.mode == "garbage":
            return self._send(h, 200, b"<html>not the api</html>", "text/html")
        if self.mode == "500" or fail is not None:
            return self._json(
                h, fail or 500, {"status": "error", "error": "Internal server error (stand-in)"}
            )
        if auth_error:
            return self._json(h, 401, {"status": "error", "error": auth_error})
        status, doc = self._route(h.command, parts.path, query, form)
        self._json(h, status, doc)

    def _auth_error(self, method: str, raw_path: str, headers: dict[str, str], form: dict[str, str]) -> str:
        invalid = "Invalid API request authorization."
        if self.auth == "mw2":
            key = headers.get("x-api-key") or headers.get("x-mw-public-key") or ""
            return "" if key and hmac.compare_digest(key, self.api_key) else invalid
        public = headers.get("x-mw-public-key", "")
        stamp = headers.get("x-mw-timestamp", "")
        signature = headers.get("x-mw-signature", "")
        if not (public and stamp and signature) or not hmac.compare_digest(public, self.api_key):
            return invalid
        try:
            if math.fabs(time.time() - int(stamp)) > TIMESTAMP_SKEW:
                return "Invalid API request timestamp."
        except ValueError:
            return invalid
        params = {
            "X-MW-PUBLIC-KEY": public,
            "X-MW-TIMESTAMP": stamp,
            "X-MW-REMOTE-ADDR": headers.get("x-mw-remote-addr", ""),
            **(form if method in ("POST", "PUT", "DELETE") else {}),
        }
        url = f"http://{headers.get('host', '')}{raw_path}"
        encoded = urlencode(sorted(params.items()), quote_via=quote_plus).replace("~", "%7E")
        text = f"{method} {url}{'&' if '?' in url else '?'}{encoded}"
        expected = hmac.new(self.private_key.encode(), text.encode(), hashlib.sha1).hexdigest()
        return "" if hmac.compare_digest(expected, signature) else "Invalid API request signature."

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict]:
        if not path.startswith(API_PREFIX + "/"):
            return 404, _error("Page not found.")
        route = path[len(API_PREFIX) + 1 :].strip("/")
        parts = route.split("/")
        unknown = 404, _error(f'Unable to resolve the request "{route}".')
        old = self.version.startswith("1.")
        if old and method == "POST" and len(parts) == 3 and parts[0] == "campaigns" and parts[2] == "bounces":
            return unknown
        if old and parts == ["lists", "subscribers", "unsubscribe-by-email-from-all-lists"]:
            return unknown
        if method == "GET" and parts == ["lists", "subscribers", "search-by-email-in-all-lists"]:
            email = query.get("EMAIL", "").lower()
            if not email:
                return 422, _error("Please provide the subscriber email address.")
            records = [
                {
                    "subscriber_uid": subs[email],
                    "email": email,
                    "status": "confirmed",
                    "list": {"list_uid": uid},
                }
                for uid, subs in self.lists.items()
                if email in subs
            ]
            return 200, _ok({"records": records, "count": len(records), "current_page": 1, "total_pages": 1})
        if (
            method == "PUT"
            and len(parts) == 5
            and parts[0] == "lists"
            and parts[2] == "subscribers"
            and parts[4] == "unsubscribe"
        ):
            subs = self.lists.get(parts[1])
            if subs is None:
                return 404, _error("The subscribers list does not exist.")
            email = next((e for e, uid in subs.items() if uid == parts[3]), None)
            if email is None:
                return 404, _error("The subscriber does not exist in this list.")
            with self._lock:
                self.list_unsubscribes.append((parts[1], email))
            return 200, {"status": "success"}
        if method == "GET" and parts == ["campaigns"]:
            return self._campaigns(query)
        if method == "GET" and len(parts) == 2 and parts[0] == "campaigns":
            record = self.campaigns.get(parts[1])
            return (200, _ok({"record": record})) if record else (404, _error("The campaign does not exist."))
        if method == "POST" and len(parts) == 3 and parts[0] == "campaigns" and parts[2] == "bounces":
            return self._bounce(parts[1], form)
        if (
            method == "GET"
            and len(parts) == 4
            and parts[0] == "lists"
            and parts[2:]
            == [
                "subscribers",
                "search-by-email",
            ]
        ):
            subs = self.lists.get(parts[1])
            if subs is None:
                return 404, _error("The subscribers list does not exist.")
            uid = subs.get(query.get("EMAIL", "").lower())
            if not uid:
                return 404, _error("The subscriber does not exist in this list.")
            return 200, _ok(
                {"subscriber_uid": uid, "status": "confirmed", "date_added": "2025-01-01 00:00:00"}
            )
        if method == "PUT" and parts == ["lists", "subscribers", "unsubscribe-by-email-from-all-lists"]:
            email = form.get("EMAIL", "").lower()
            if not email:
                return 422, _error({"EMAIL": ["The EMAIL parameter is required."]})
            if not any(email in subs for subs in self.lists.values()):
                return 404, _error("The subscriber does not exist.")
            with self._lock:
                self.unsubscribes.append(email)
            return 200, {"status": "success"}
        return unknown

    def _campaigns(self, query: dict[str, str]) -> tuple[int, dict]:
        try:
            page, per_page = max(1, int(query.get("page", 1))), max(1, int(query.get("per_page", 10)))
        except ValueError:
            return 400, _error("Invalid page.")
        records = list(self.campaigns.values())
        total_pages = max(1, math.ceil(len(records) / per_page))
        chunk = records[(page - 1) * per_page : page * per_page]
        listing = [{k: v for k, v in r.items() if k != "date_added"} for r in chunk]
        return 200, _ok(
            {
                "count": str(len(records)),  # MailWizz sends numbers as strings
                "total_pages": total_pages,
                "current_page": page,
                "next_page": page + 1 if page < total_pages else None,
                "prev_page": page - 1 if page > 1 else None,
                "records": listing,
            }
        )

    def _bounce(self, campaign_uid: str, form: dict[str, str]) -> tuple[int, dict]:
        campaign = self.campaigns.get(campaign_uid)
        if campaign is None:
            return 404, _error("The campaign does not exist.")
        errors: dict[str, list[str]] = {}
        if len(form.get("message", "")) > 250:
            errors["message"] = ["Message is too long (maximum is 250 characters)."]
        if form.get("bounce_type") not in ("hard", "soft", "internal"):
            errors["bounce_type"] = ["Bounce type is invalid."]
        subs = self.lists.get(campaign["list"]["list_uid"], {})
        if form.get("subscriber_uid") not in subs.values():
            errors["subscriber_uid"] = ["The subscriber does not exist."]
        if errors:
            return 422, _error(errors)
        with self._lock:
            self.bounces.append({"campaign_uid": campaign_uid, **form})
        return 201, {"status": "success", "data": {"record": {"bounce_type": form["bounce_type"]}}}

    # --- replies --------------------------------------------------------------------------------------

    def _json(self, h: BaseHTTPRequestHandler, status: int, doc: dict) -> None:
        self._send(h, status, json.dumps(doc).encode(), "application/json")

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


def _ok(data: dict) -> dict:
    return {"status": "success", "data": data}


def _error(error: Any) -> dict:
    return {"status": "error", "error": error}
