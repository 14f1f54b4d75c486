"""A small MailWizz API client (over the guarded client core/outbound.py), for both auth modes.

Replies are ``{"status": "success", "data": {...}}`` or ``{"status": "error", "error": "..."}``
(PMTA-NOTES section 4). Bodies are sent form-encoded, as MailWizz's own SDKs do.

Auth:
- ``mw2`` (MailWizz 2.x, RequestAccessFilter): one ``X-API-KEY: <api key>`` header.
- ``mw1`` (MailWizz 1.x signed requests): headers ``X-MW-PUBLIC-KEY`` (the api key), ``X-MW-TIMESTAMP`` (unix
  seconds), ``X-MW-REMOTE-ADDR`` (empty) and ``X-MW-SIGNATURE`` = lower-case hex HMAC-SHA1, keyed with the
  private key, of ``"<METHOD> <url><sep><params>"`` where
    * ``<url>`` is the full request URL as sent, including its query string (GET parameters, sorted by name);
    * ``<params>`` are the three X-MW-* headers above plus the form body parameters (POST/PUT), sorted by
      name (byte order), form-encoded like PHP's http_build_query (space as ``+``, ``~`` as ``%7E``);
    * ``<sep>`` is ``&`` when ``<url>`` already has a ``?``, else ``?``.
  The notes give "HMAC-SHA1 of METHOD url?sorted-params"; which headers count as params follows the public
  MailWizz PHP SDK. See ``mw1_signature``; testsupport/mailwizz_standin.py verifies it independently.

Errors are typed so callers can decide what to retry: MailWizzAuthError (401/403 or an auth complaint),
MailWizzUnavailable (timeouts, connection errors, 429, 5xx: try later), MailWizzRefused (an address this
server does not connect to, or a redirect), MailWizzNotFound (404: the object is not there, retrying will not
help), MailWizzError for the rest. Their text is ours, never MailWizz's reply (see ``_reply``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from core.outbound import OutboundError, OutboundRefused, outbound_request

__all__ = [
    "MailWizzAuthError",
    "MailWizzClient",
    "MailWizzError",
    "MailWizzNotFound",
    "MailWizzRefused",
    "MailWizzUnavailable",
    "mw1_signature",
    "php_build_query",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
MAX_REPLY_BYTES = 5 * 1024 * 1024
USER_AGENT = "EmailEngine-MailWizz/1.0"


# The write routes the outbox uses (PMTA-NOTES section 4; MW2 apps/api/config/main.php) and the routes it
# falls back to where they are missing. MailWizz 1.3.8.3's route table (MW1 apps/api/config/main.php) has
# neither write route, but has the fallbacks: search-by-email-in-all-lists (since 1.3.6.2) and the
# per-list unsubscribe (since 1.0).
ROUTE_BOUNCE = "campaigns/{campaign_uid}/bounces"  # POST
ROUTE_UNSUBSCRIBE_ALL = "lists/subscribers/unsubscribe-by-email-from-all-lists"  # PUT
ROUTE_SEARCH_ALL_LISTS = "lists/subscribers/search-by-email-in-all-lists"  # GET
ROUTE_UNSUBSCRIBE = "lists/{list_uid}/subscribers/{subscriber_uid}/unsubscribe"  # PUT
PROBE_UID = "eeprobe0route0check"  # matches MailWizz's uid pattern [a-z0-9]+; no campaign has it


class MailWizzError(Exception):
    """MailWizz answered with an error, or something that is not a MailWizz reply."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MailWizzAuthError(MailWizzError):
    """The key (or 1.x signature) was refused."""


class MailWizzUnavailable(MailWizzError):
    """MailWizz could not be reached or is overloaded or broken (timeout, refused, 429, 5xx): try later."""


class MailWizzNotFound(MailWizzError):
    """The campaign, list or subscriber does not exist there (404)."""


class MailWizzRefused(MailWizzUnavailable):
    """The URL points somewhere this server does not connect to (a private, loopback or link-local address
    the operator has not allowed), or it redirected: nothing was sent. Later runs retry, in case the URL or
    the operator's allow-list changes."""


def php_build_query(params: Mapping[str, Any]) -> str:
    """Form-encode like PHP's http_build_query: ``quote_plus`` plus ``~`` encoded (PHP's urlencode does)."""
    return "&".join(
        f"{quote_plus(str(k), safe='')}={quote_plus(str(v), safe='')}".replace("~", "%7E")
        for k, v in params.items()
    )


def mw1_signature(*, method: str, url: str, params: Mapping[str, Any], private_key: str) -> str:
    """The 1.x ``X-MW-SIGNATURE`` (see the module docstring for the exact construction)."""
    ordered = {k: params[k] for k in sorted(params, key=lambda k: str(k).encode())}
    separator = "&" if "?" in url else "?"
    text = f"{method.upper()} {url}{separator}{php_build_query(ordered)}"
    return hmac.new(private_key.encode(), text.encode(), hashlib.sha1).hexdigest()


def _error_text(value: Any) -> str:
    """MailWizz's "error" is a string, or a dict of field -> message(s) on validation errors."""
    if isinstance(value, dict):
        parts = []
        for field, msg in value.items():
            text = "; ".join(map(str, msg)) if isinstance(msg, list) else str(msg)
            parts.append(f"{field}: {text}")
        return ", ".join(parts) or "error"
    return str(value or "error")


@dataclass
class MailWizzClient:
    base_url: str
    api_key: str
    mode: str = "mw2"
    private_key: str = ""
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.mode not in ("mw1", "mw2"):
            raise ValueError(f"unknown MailWizz mode {self.mode!r}")
        if not self.base_url.lower().startswith(("http://", "https://")):
            raise ValueError("the MailWizz API URL must start with http:// or https://")

    # --- transport ----------------------------------------------------------------------------------

    def url_for(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        url = (
            self.base_url.rstrip("/") + "/" + "/".join(quote(p, safe="") for p in path.strip("/").split("/"))
        )
        if query:
            url += "?" + php_build_query({k: query[k] for k in sorted(query)})
        return url

    def _auth_headers(self, method: str, url: str, data: Mapping[str, Any]) -> dict[str, str]:
        if self.mode == "mw2":
            return {"X-API-KEY": self.api_key}
        special = {
            "X-MW-PUBLIC-KEY": self.api_key,
            "X-MW-TIMESTAMP": str(int(time.time())),
            "X-MW-REMOTE-ADDR": "",
        }
        signature = mw1_signature(
            method=method, url=url, params={**special, **data}, private_key=self.private_key
        )
        return {**special, "X-MW-SIGNATURE": signature}

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call; returns the reply's ``data`` object ({} when there is none)."""
        status, raw = self._call(method, path, query=query, data=data)
        return self._reply(status, raw)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        """One API call: (HTTP status, body) as they came."""
        method = method.upper()
        url = self.url_for(path, query)
        form = {k: "" if v is None else str(v) for k, v in (data or {}).items()}
        body = php_build_query(form).encode() if method in ("POST", "PUT", "DELETE") else None
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._auth_headers(method, url, form if body is not None else {}),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # The tenant typed this URL: the guarded client checks where it really connects (core/outbound.py).
        try:
            reply = outbound_request(
                method, url, headers=headers, body=body, timeout=self.timeout, max_bytes=MAX_REPLY_BYTES
            )
        except OutboundRefused as exc:
            raise MailWizzRefused(str(exc), status=exc.status) from None
        except OutboundError as exc:
            raise MailWizzUnavailable(str(exc)) from None
        return reply.status, reply.body

    def _reply(self, status: int, raw: bytes) -> dict[str, Any]:
        """The reply's ``data``, or a typed error whose text is ours: what MailWizz (or whatever answers at
        that URL) said is logged for operators, never put in the message a tenant sees."""
        try:
            doc = json.loads(raw.decode("utf-8", errors="replace")) if raw.strip() else None
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("status") == "error":
            log.info("MailWizz error reply (HTTP %s): %.300s", status, _error_text(doc.get("error")))
        if status in (401, 403):
            what = "API key or its signature (private key)" if self.mode == "mw1" else "API key"
            raise MailWizzAuthError(f"HTTP {status}: the {what} was not accepted", status=status)
        if status == 404:
            raise MailWizzNotFound("HTTP 404: not found", status=status)
        if status == 429 or status >= 500:
            raise MailWizzUnavailable(f"HTTP {status}: MailWizz is busy or failing", status=status)
        if not isinstance(doc, dict):
            raise MailWizzError(f"HTTP {status}: the reply is not MailWizz JSON", status=status)
        if status >= 400 or doc.get("status") != "success":
            raise MailWizzError(f"HTTP {status}: MailWizz refused the request", status=status)
        data = doc.get("data")
        return data if isinstance(data, dict) else {}

    # --- endpoints ----------------------------------------------------------------------------------

    def ping(self) -> int:
        """The cheapest authenticated call: one campaign; returns how many campaigns the key sees."""
        data = self.request("GET", "campaigns", query={"page": 1, "per_page": 1})
        return _int(data.get("count"), default=len(data.get("records") or []))

    def campaigns_page(self, page: int = 1, per_page: int = 50) -> dict[str, Any]:
        return self.request("GET", "campaigns", query={"page": page, "per_page": per_page})

    def iter_campaigns(self, *, per_page: int = 50, max_pages: int = 100) -> Iterator[dict[str, Any]]:
        """Every campaign record, page by page (stops at total_pages, an empty page, or max_pages)."""
        page = 1
        while page <= max_pages:
            data = self.campaigns_page(page, per_page)
            records = data.get("records") or []
            if not isinstance(records, list):
                raise MailWizzError("campaigns: data.records is not a list")
            yield from (r for r in records if isinstance(r, dict))
            total_pages = _int(data.get("total_pages"), default=0)
            if (
                not records
                or (total_pages and page >= total_pages)
                or (not total_pages and len(records) < per_page)
            ):
                return
            page += 1

    def campaign(self, uid: str) -> dict[str, Any]:
        data = self.request("GET", f"campaigns/{uid}")
        record = data.get("record", data)
        return record if isinstance(record, dict) else {}

    def subscriber_uid_by_email(self, *, list_uid: str, email: str) -> str:
        data = self.request("GET", f"lists/{list_uid}/subscribers/search-by-email", query={"EMAIL": email})
        record = data.get("record", data)
        uid = record.get("subscriber_uid", "") if isinstance(record, dict) else ""
        if not uid:
            raise MailWizzNotFound(f"{email} is not a subscriber of list {list_uid}")
        return str(uid)

    def campaign_bounce_create(
        self, *, campaign_uid: str, subscriber_uid: str, message: str, bounce_type: str = "hard"
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            ROUTE_BOUNCE.format(campaign_uid=campaign_uid),
            data={"message": message[:250], "bounce_type": bounce_type, "subscriber_uid": subscriber_uid},
        )

    def unsubscribe_from_all_lists(self, *, email: str) -> dict[str, Any]:
        return self.request("PUT", ROUTE_UNSUBSCRIBE_ALL, data={"EMAIL": email})

    # --- the 1.x fallbacks (routes 1.3.8.3 has) --------------------------------------------------------

    def subscriptions_of(self, *, email: str) -> list[tuple[str, str]]:
        """(list uid, subscriber uid) of every list the address is on (at most 100, MailWizz's cap)."""
        try:
            data = self.request("GET", ROUTE_SEARCH_ALL_LISTS, query={"EMAIL": email})
        except MailWizzNotFound:
            return []
        found = []
        for record in data.get("records") or []:
            if isinstance(record, dict) and isinstance(record.get("list"), dict):
                list_uid, subscriber_uid = record["list"].get("list_uid"), record.get("subscriber_uid")
                if list_uid and subscriber_uid:
                    found.append((str(list_uid), str(subscriber_uid)))
        return found

    def unsubscribe(self, *, list_uid: str, subscriber_uid: str) -> dict[str, Any]:
        return self.request("PUT", ROUTE_UNSUBSCRIBE.format(list_uid=list_uid, subscriber_uid=subscriber_uid))

    def routes_available(self) -> dict[str, bool]:
        """Which of the outbox's write routes this MailWizz serves, found without changing anything.

        A path no MailWizz has first shows how this instance answers for a route it lacks; each write
        route is then called with nothing it could act on (a campaign uid that cannot exist, an empty
        EMAIL): a route that is there refuses that differently (its own 404 text, 422), one that is not
        answers like the path that does not exist.
        """
        absent = self._fingerprint("POST", "ee-route-probe/none", {})
        bounce = self._fingerprint("POST", ROUTE_BOUNCE.format(campaign_uid=PROBE_UID), {})
        unsubscribe_all = self._fingerprint("PUT", ROUTE_UNSUBSCRIBE_ALL, {"EMAIL": ""})
        return {"bounce": bounce != absent, "unsubscribe_all": unsubscribe_all != absent}

    def _fingerprint(self, method: str, path: str, data: Mapping[str, Any]) -> tuple[int, str]:
        status, raw = self._call(method, path, data=data)
        if status in (401, 403):
            self._reply(status, raw)  # raises the auth error
        if status == 429 or status >= 500:
            raise MailWizzUnavailable(f"HTTP {status}: MailWizz is busy or failing", status=status)
        # Frameworks name the path they could not resolve; without it, "no such route" answers match.
        text = (
            raw.decode("utf-8", errors="replace")
            .replace(path, "{path}")
            .replace(path.replace("/", "\\/"), "{path}")
        )
        return status, text


def _int(value: Any, *, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
