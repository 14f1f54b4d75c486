"""Local stand-ins for Google (OAuth token endpoint + Postmaster Tools API v2) and Microsoft SNDS data.aspx.

Built from the documented formats (reputation/providers/postmaster.py and snds.py cite them) and strict:
they refuse what the real services refuse as far as their documentation says - no or a wrong bearer token
(401 UNAUTHENTICATED), a domain the account has not registered (403 PERMISSION_DENIED), an unknown standard
metric, an AUTH_SUCCESS_RATE without its auth_type filter, a missing timeQuery or a pageSize over 200
(400 INVALID_ARGUMENT), a body that is not JSON, a token request that is not a form or carries the wrong
refresh token (400 invalid_grant) or client (401 invalid_client); SNDS refuses an unknown key and a date
that is not MMDDYY.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STANDARD_METRICS = {
    "FEEDBACK_LOOP_ID",
    "FEEDBACK_LOOP_SPAM_RATE",
    "SPAM_RATE",
    "AUTH_SUCCESS_RATE",
    "TLS_ENCRYPTION_MESSAGE_COUNT",
    "TLS_ENCRYPTION_RATE",
    "DELIVERY_ERROR_COUNT",
    "DELIVERY_ERROR_RATE",
}
_AUTH_FILTER = re.compile(r'^auth_type\s*=\s*"(spf|dkim|dmarc)"$')
_FBL_FILTER = re.compile(
    r'^feedback_loop_id\s*=\s*"((?:[^"\\]|\\.)*)"(\s+AND\s+aggregation_key_type\s*=\s*"\w+")?$'
)


def _in(day: date, r: dict) -> bool:
    start = date(r["start"]["year"], r["start"]["month"], r["start"]["day"])
    end = date(r["end"]["year"], r["end"]["month"], r["end"]["day"])
    return start <= day <= end


class ProviderStandIn:
    def __init__(self) -> None:
        self.client_id = "client-1.apps.googleusercontent.com"
        self.client_secret = "secret-1"
        self.refresh_token = "refresh-1"
        self.access_token = "ya29.standin"
        # domain -> {date: {metric name key: value}}, keyed by (standard metric, filter)
        self.stats: dict[str, dict[date, dict[tuple[str, str], float]]] = {}
        self.compliance: dict[str, dict[str, str]] = {}
        # domain -> {date: {feedback id: spam rate}}
        self.fbl: dict[str, dict[date, dict[str, float]]] = {}
        self.snds_keys: dict[str, str] = {}  # key -> CSV body
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ProviderStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- data ---------------------------------------------------------------------------------------------
    def add_stat(self, domain: str, day: date, metric: str, value: float, flt: str = "") -> None:
        self.stats.setdefault(domain, {}).setdefault(day, {})[(metric, flt)] = value

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: object, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _google_error(self, status: int, code: str, message: str) -> None:
                self._send(status, {"error": {"code": status, "status": code, "message": message}})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                standin.requests.append(("POST", path))
                if path == "/token":
                    return self._token()
                if not self._authorized():
                    return None
                match = re.fullmatch(r"/v2/domains/([^/]+)/domainStats:query", path)
                if not match:
                    return self._google_error(404, "NOT_FOUND", "no such method")
                return self._query(unquote(match.group(1)))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                standin.requests.append(("GET", parts.path))
                if parts.path == "/snds/data.aspx":
                    return self._snds(parse_qs(parts.query))
                if not self._authorized():
                    return None
                match = re.fullmatch(r"/v2/domains/([^/]+)/complianceStatus", parts.path)
                if not match:
                    return self._google_error(404, "NOT_FOUND", "no such method")
                domain = unquote(match.group(1))
                if domain not in standin.stats and domain not in standin.compliance:
                    return self._google_error(403, "PERMISSION_DENIED", "not registered")
                rows = [
                    {"requirement": req, "status": {"status": status}}
                    for req, status in standin.compliance.get(domain, {}).items()
                ]
                return self._send(
                    200,
                    {
                        "name": f"domains/{domain}/complianceStatus",
                        "complianceData": {"domainId": domain, "rowData": rows},
                    },
                )

            # -- OAuth ---------------------------------------------------------------------------------------
            def _token(self) -> None:
                if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                    return self._send(400, {"error": "invalid_request"})
                form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
                if (
                    form.get("client_id") != standin.client_id
                    or form.get("client_secret") != standin.client_secret
                ):
                    return self._send(401, {"error": "invalid_client"})
                if (
                    form.get("grant_type") != "refresh_token"
                    or form.get("refresh_token") != standin.refresh_token
                ):
                    return self._send(400, {"error": "invalid_grant"})
                return self._send(
                    200,
                    {
                        "access_token": standin.access_token,
                        "expires_in": 3599,
                        "token_type": "Bearer",
                        "scope": "https://www.googleapis.com/auth/postmaster.traffic.readonly",
                    },
                )

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {standin.access_token}":
                    self._google_error(
                        401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
                    )
                    return False
                return True

            # -- Postmaster v2 ----------------------------------------------------------------------------
            def _query(self, domain: str) -> None:
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    return self._google_error(400, "INVALID_ARGUMENT", "body must be JSON")
                try:
                    req = json.loads(self._body())
                except ValueError:
                    return self._google_error(400, "INVALID_ARGUMENT", "invalid JSON")
                if domain not in standin.stats:
                    return self._google_error(403, "PERMISSION_DENIED", "not registered")
                definitions = req.get("metricDefinitions") or []
                if not definitions or "timeQuery" not in req:
                    return self._google_error(
                        400, "INVALID_ARGUMENT", "metricDefinitions and timeQuery required"
                    )
                page_size = int(req.get("pageSize") or 10)
                if not 0 < page_size <= 200:
                    return self._google_error(400, "INVALID_ARGUMENT", "pageSize must be 1..200")
                wanted = []
                for d in definitions:
                    metric = (d.get("baseMetric") or {}).get("standardMetric")
                    flt = d.get("filter", "")
                    if not d.get("name") or metric not in STANDARD_METRICS:
                        return self._google_error(400, "INVALID_ARGUMENT", f"bad metric {metric}")
                    if metric == "AUTH_SUCCESS_RATE" and not _AUTH_FILTER.match(flt):
                        return self._google_error(
                            400, "INVALID_ARGUMENT", "AUTH_SUCCESS_RATE needs auth_type"
                        )
                    wanted.append((d["name"], metric, flt))
                ranges = ((req["timeQuery"].get("dateRanges") or {}).get("dateRanges")) or []
                if not ranges:
                    return self._google_error(400, "INVALID_ARGUMENT", "timeQuery needs dateRanges")
                days = [d for d in sorted(standin.stats[domain]) if any(_in(d, r) for r in ranges)]
                fbl = standin.fbl.get(domain, {})
                days = sorted(set(days) | {d for d in fbl if any(_in(d, r) for r in ranges)})
                stats = []
                for day in days:
                    for name, metric, flt in wanted:
                        if metric == "FEEDBACK_LOOP_ID":
                            ids = sorted(fbl.get(day, {}))
                            if ids:
                                stats.append(
                                    {
                                        "name": f"domains/{domain}/domainStats/{len(stats)}",
                                        "metric": name,
                                        "date": {"year": day.year, "month": day.month, "day": day.day},
                                        "value": {"stringList": {"values": ids}},
                                    }
                                )
                            continue
                        if metric == "FEEDBACK_LOOP_SPAM_RATE":
                            wanted_id = re.sub(r"\\(.)", r"\1", _FBL_FILTER.match(flt).group(1))
                            value = fbl.get(day, {}).get(wanted_id)
                        else:
                            value = standin.stats[domain].get(day, {}).get((metric, flt))
                        if value is None:
                            continue
                        stats.append(
                            {
                                "name": f"domains/{domain}/domainStats/{len(stats)}",
                                "metric": name,
                                "date": {"year": day.year, "month": day.month, "day": day.day},
                                "value": {"doubleValue": value},
                            }
                        )
                offset = int(req.get("pageToken") or 0)
                page = stats[offset : offset + page_size]
                reply: dict = {"domainStats": page}
                if offset + page_size < len(stats):
                    reply["nextPageToken"] = str(offset + page_size)
                return self._send(200, reply)

            # -- SNDS -------------------------------------------------------------------------------------
            def _snds(self, query: dict[str, list[str]]) -> None:
                key = (query.get("key") or [""])[0]
                if key not in standin.snds_keys:
                    return self._send(401, b"Unauthorized", "text/plain")
                when = (query.get("date") or [None])[0]
                if when is not None and not re.fullmatch(r"\d{6}", when):
                    return self._send(400, b"Bad date", "text/plain")
                return self._send(200, standin.snds_keys[key].encode(), "text/csv")

        return Handler
