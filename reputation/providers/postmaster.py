"""Google Postmaster Tools API **v2** (Gmail's user-reported spam rate, compliance, auth and delivery errors).

Reference: the v2 discovery document ``gmailpostmastertools:v2``, revision 20260512, as published in
googleapis/google-api-python-client
(``googleapiclient/discovery_cache/documents/gmailpostmastertools.v2.json``); human docs at
developers.google.com/workspace/gmail/postmaster/reference/rest/v2. What this module relies on:

- ``POST v2/{parent=domains/*}/domainStats:query`` with a ``QueryDomainStatsRequest``:
  ``metricDefinitions`` (``name``, ``baseMetric.standardMetric``, ``filter``),
  ``timeQuery.dateRanges.dateRanges[{start, end}]`` (``Date`` = ``{year, month, day}``),
  ``aggregationGranularity`` ``DAILY``, ``pageSize`` (max 200), ``pageToken``. Reply:
  ``domainStats[{name, metric, date, value: StatisticValue}]`` + ``nextPageToken``. ``StatisticValue``
  carries one of ``doubleValue``/``floatValue``/``intValue`` (int64 as a string)/...
- standard metrics used: ``SPAM_RATE``; ``AUTH_SUCCESS_RATE`` with filter
  ``auth_type = "spf"|"dkim"|"dmarc"``; ``DELIVERY_ERROR_RATE`` (no filter: all error types).
- ``GET v2/{name=domains/*/complianceStatus}`` ->
  ``DomainComplianceStatus.complianceData.rowData[{requirement, status.status}]``, requirements such as
  ``USER_REPORTED_SPAM_RATE`` and ``ONE_CLICK_UNSUBSCRIBE``, status ``COMPLIANT``/``NEEDS_WORK``.
- feedback loop: ``FEEDBACK_LOOP_ID`` (a ``stringList`` of the Feedback-IDs seen) and
  ``FEEDBACK_LOOP_SPAM_RATE`` with filter ``feedback_loop_id = "<id>"``, per day.
- OAuth 2.0 scope ``https://www.googleapis.com/auth/postmaster.traffic.readonly``; an access token comes
  from the refresh token at the token endpoint (``grant_type=refresh_token``).
Rates are stored as Google returns them; the discovery document does not state their scale, so a value
above 1 is read as a percentage (this guard is ours, not Google's).

The v1 API (``trafficStats``, ``domainReputation``, ``ipReputations``) is retired and not used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.outbound import OutboundError, outbound_request
from domains.models import SendingDomain
from reputation.models import FeedbackLoopStat, PostmasterDomainStat, ProviderAccount
from reputation.providers import ConnectionResult
from reputation.providers.feedback_id import parse_feedback_id
from tenants.models import Tenant

SCOPE = "https://www.googleapis.com/auth/postmaster.traffic.readonly"
PAGE_SIZE = 200
# Our metric names (MetricDefinition.name) -> (standard metric, filter), and the model field each fills.
METRICS: dict[str, tuple[str, str, str]] = {
    "spam_rate": ("SPAM_RATE", "", "spam_rate"),
    "spf": ("AUTH_SUCCESS_RATE", 'auth_type = "spf"', "spf_success_rate"),
    "dkim": ("AUTH_SUCCESS_RATE", 'auth_type = "dkim"', "dkim_success_rate"),
    "dmarc": ("AUTH_SUCCESS_RATE", 'auth_type = "dmarc"', "dmarc_success_rate"),
    "delivery_errors": ("DELIVERY_ERROR_RATE", "", "delivery_error_rate"),
}


class PostmasterError(Exception):
    pass


@dataclass
class ImportResult:
    domains: int = 0
    days: int = 0
    errors: list[str] = field(default_factory=list)


def _api(path: str) -> str:
    return settings.POSTMASTER_API_URL.rstrip("/") + "/" + path.lstrip("/")


def access_token(account: ProviderAccount) -> str:
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "refresh_token": account.refresh_token,
        }
    ).encode()
    reply = outbound_request(
        "POST",
        settings.GOOGLE_OAUTH_TOKEN_URL,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body=body,
    )
    data = _json(reply.body)
    if reply.status != 200 or "access_token" not in data:
        raise PostmasterError(f"token refresh refused (HTTP {reply.status}: {data.get('error', 'no token')})")
    return str(data["access_token"])


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _call(token: str, method: str, path: str, payload: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    body = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode()
    reply = outbound_request(method, _api(path), headers=headers, body=body)
    data = _json(reply.body)
    if reply.status != 200:
        error = data.get("error", {}) if isinstance(data.get("error"), dict) else {}
        raise PostmasterError(
            f"{path}: HTTP {reply.status} {error.get('status', '')} {error.get('message', '')}"
        )
    return data


def _date(d: date) -> dict:
    return {"year": d.year, "month": d.month, "day": d.day}


def _value(value: dict) -> float | None:
    for key in ("doubleValue", "floatValue", "intValue"):
        if key in value:
            try:
                number = float(value[key])
            except (TypeError, ValueError):
                return None
            return number / 100 if number > 1 else number
    return None


def query_domain_stats(
    token: str, domain: str, start: date, end: date
) -> dict[date, dict[str, float | None]]:
    """Daily values of METRICS for one domain, following nextPageToken."""
    request = {
        "metricDefinitions": [
            {"name": name, "baseMetric": {"standardMetric": metric}, **({"filter": flt} if flt else {})}
            for name, (metric, flt, _) in METRICS.items()
        ],
        "timeQuery": {"dateRanges": {"dateRanges": [{"start": _date(start), "end": _date(end)}]}},
        "aggregationGranularity": "DAILY",
        "pageSize": PAGE_SIZE,
    }
    days: dict[date, dict[str, float | None]] = {}
    path = f"v2/domains/{quote(domain, safe='')}/domainStats:query"
    for _ in range(100):  # a bound on pages, not a expected count
        data = _call(token, "POST", path, request)
        for stat in data.get("domainStats", []):
            d = stat.get("date") or {}
            try:
                day = date(int(d["year"]), int(d["month"]), int(d["day"]))
            except (KeyError, TypeError, ValueError):
                continue
            if stat.get("metric") in METRICS:
                days.setdefault(day, {})[stat["metric"]] = _value(stat.get("value") or {})
        token_next = data.get("nextPageToken")
        if not token_next:
            break
        request["pageToken"] = token_next
    return days


def _query(token: str, domain: str, start: date, end: date, definitions: list[dict]) -> list[dict]:
    request: dict = {
        "metricDefinitions": definitions,
        "timeQuery": {"dateRanges": {"dateRanges": [{"start": _date(start), "end": _date(end)}]}},
        "aggregationGranularity": "DAILY",
        "pageSize": PAGE_SIZE,
    }
    found: list[dict] = []
    path = f"v2/domains/{quote(domain, safe='')}/domainStats:query"
    for _ in range(100):
        data = _call(token, "POST", path, request)
        found += data.get("domainStats", [])
        if not data.get("nextPageToken"):
            break
        request["pageToken"] = data["nextPageToken"]
    return found


def _day(stat: dict) -> date | None:
    d = stat.get("date") or {}
    try:
        return date(int(d["year"]), int(d["month"]), int(d["day"]))
    except (KeyError, TypeError, ValueError):
        return None


def feedback_loop_rates(
    token: str, domain: str, start: date, end: date
) -> dict[tuple[date, str], float | None]:
    """(day, Feedback-ID) -> spam rate: the IDs Gmail saw (FEEDBACK_LOOP_ID), then each one's rate."""
    ids: set[str] = set()
    for stat in _query(
        token, domain, start, end, [{"name": "ids", "baseMetric": {"standardMetric": "FEEDBACK_LOOP_ID"}}]
    ):
        ids.update((stat.get("value") or {}).get("stringList", {}).get("values", []))
    rates: dict[tuple[date, str], float | None] = {}
    for fbl_id in sorted(ids):
        escaped = fbl_id.replace("\\", "\\\\").replace('"', '\\"')
        definition = {
            "name": "fbl",
            "baseMetric": {"standardMetric": "FEEDBACK_LOOP_SPAM_RATE"},
            "filter": f'feedback_loop_id = "{escaped}"',
        }
        for stat in _query(token, domain, start, end, [definition]):
            day = _day(stat)
            if day is not None:
                rates[(day, fbl_id)] = _value(stat.get("value") or {})
    return rates


def compliance_status(token: str, domain: str) -> dict[str, str]:
    data = _call(token, "GET", f"v2/domains/{quote(domain, safe='')}/complianceStatus")
    rows = (data.get("complianceData") or {}).get("rowData") or []
    return {
        str(row.get("requirement")): str((row.get("status") or {}).get("status", "STATE_UNSPECIFIED"))
        for row in rows
        if row.get("requirement")
    }


def _domains_for(account: ProviderAccount) -> list[SendingDomain]:
    qs = SendingDomain.objects.all()
    if account.tenant_id:
        qs = qs.filter(tenant_id=account.tenant_id)
    return list(qs.order_by("name"))


def postmaster_import(*, account: ProviderAccount, today: date | None = None) -> ImportResult:
    """Import the last POSTMASTER_DAYS_BACK days for every sending domain the account may see; idempotent."""
    today = today or timezone.now().date()
    start = today - timedelta(days=settings.POSTMASTER_DAYS_BACK)
    result = ImportResult()
    try:
        token = access_token(account)
    except (PostmasterError, OutboundError) as exc:
        _finish(account, str(exc))
        result.errors.append(str(exc))
        return result
    for domain in _domains_for(account):
        try:
            days = query_domain_stats(token, domain.name, start, today - timedelta(days=1))
            compliance = compliance_status(token, domain.name) if days else {}
        except (PostmasterError, OutboundError) as exc:
            result.errors.append(f"{domain.name}: {exc}")
            continue
        try:
            loops = feedback_loop_rates(token, domain.name, start, today - timedelta(days=1))
        except (PostmasterError, OutboundError) as exc:
            loops = {}
            result.errors.append(f"{domain.name} feedback loop: {exc}")
        with transaction.atomic():
            _store_feedback_loops(domain, loops)
            for day, values in sorted(days.items()):
                fields = {METRICS[name][2]: value for name, value in values.items()}
                PostmasterDomainStat.objects.update_or_create(
                    domain=domain,
                    day=day,
                    defaults={**fields, "compliance": compliance, "fetched_at": timezone.now()},
                )
        result.domains += 1
        result.days += len(days)
    _finish(account, "; ".join(result.errors)[:500])
    return result


def _store_feedback_loops(domain: SendingDomain, loops: dict[tuple[date, str], float | None]) -> None:
    """Each Feedback-ID's rate, with its tenant and campaign when it follows our convention."""
    slugs = dict(Tenant.objects.values_list("slug", "pk"))
    for (day, fbl_id), rate in loops.items():
        parsed = parse_feedback_id(fbl_id) or {}
        FeedbackLoopStat.objects.update_or_create(
            domain=domain,
            day=day,
            feedback_id=fbl_id[:300],
            defaults={
                "spam_rate": rate,
                "tenant_id": slugs.get(parsed.get("tenant", "")),
                "campaign_key": parsed.get("campaign", "")[:200],
                "fetched_at": timezone.now(),
            },
        )


def postmaster_connection_test(*, account: ProviderAccount) -> ConnectionResult:
    """Refresh an access token with the account's OAuth client and refresh token, then read one sending
    domain's compliance status (``domains.getComplianceStatus``, which the read-only traffic scope allows;
    ``domains.list`` needs the wider ``postmaster.domain`` scope, so it is not used). Changes nothing."""
    if not (account.client_id and account.client_secret and account.refresh_token):
        return ConnectionResult(False, "The OAuth client id, client secret and refresh token are all needed.")
    try:
        token = access_token(account)
    except (PostmasterError, OutboundError) as exc:
        return ConnectionResult(False, f"Google refused the credentials: {exc}")
    domains = _domains_for(account)
    if not domains:
        return ConnectionResult(
            True, "Google accepted the credentials; there is no sending domain to read yet."
        )
    name = domains[0].name
    try:
        compliance_status(token, name)
    except (PostmasterError, OutboundError) as exc:
        return ConnectionResult(
            False,
            f"Google accepted the credentials but refused {name}: {exc}. Register the domain in Postmaster "
            "Tools with the Google account that granted the refresh token.",
        )
    others = f" (and {len(domains) - 1} more domains, read by the daily import)" if len(domains) > 1 else ""
    return ConnectionResult(True, f"Google accepted the credentials and answered for {name}{others}.")


def _finish(account: ProviderAccount, error: str) -> None:
    account.last_import_at, account.last_error = timezone.now(), error[:500]
    account.save(update_fields=["last_import_at", "last_error"])
