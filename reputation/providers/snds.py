"""Microsoft SNDS automated data access: per-IP data by key (PMTA-NOTES section 10).

``GET data.aspx?key=KEY[&date=MMDDYY]`` answers CSV without a header line, one row per IP and activity period:
IP address, activity start, activity end (``M/D/YYYY h:mm AM``), RCPT commands, DATA commands, message
recipients, filter result (GREEN / YELLOW / RED), complaint rate (``< 0.1%`` or ``N.N%``), trap message
period start, trap message period end, trap hits, sample HELO, sample MAIL FROM, comments. (The fields as
PMTA-NOTES section 10 lists them; the open-source client undersfx/sndslib reads this column order.) A row
that does not fit is rejected alone with its line number; it never fails the import.

Citation status (checked 2026-12-03): the column ORDER is NOT confirmed from Microsoft's own documentation.
A search of Microsoft's pages for the automated-data-access format found none (the SNDS site,
https://sendersupport.olc.protection.outlook.com/snds/, serves the data behind a login); third-party
walkthroughs (e.g. acellemail.com/kb/articles/microsoft-snds-walkthrough) name the same fields but are not
Microsoft's word. So the parser only reads a row whose shape proves the order: 14 columns (13 when the last,
empty one is cut), column 1 an IP address, columns 2-3 SNDS times and column 7 exactly GREEN, YELLOW or RED.
A file in another order is rejected row by row, each with its line number in the account's last error, and
never misread: a number is never taken for Microsoft's verdict. Nothing is lost (the rejection is shown) and
nothing sends more than before (only a RED/YELLOW read from a proven row pauses or holds Microsoft).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.outbound import OutboundError, outbound_request
from ips.models import IPAddress
from reputation.models import ProviderAccount, SndsIpStat
from reputation.providers import ConnectionResult

COLUMNS = 14
_RATE = re.compile(r"^\s*(<)?\s*(\d+(?:\.\d+)?)\s*%\s*$")
_FILTERS = {"GREEN", "YELLOW", "RED"}


class SndsError(Exception):
    pass


@dataclass
class SndsRow:
    address: str
    activity_start: datetime
    activity_end: datetime
    rcpt_commands: int
    data_commands: int
    recipients: int
    filter_result: str
    complaint_rate_text: str
    complaint_rate: float | None
    trap_hits: int
    sample_helo: str
    sample_mail_from: str
    comments: str


@dataclass
class ImportResult:
    rows: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    error: str = ""


def _time(text: str) -> datetime:
    # SNDS writes times without a zone; we read them as UTC (our assumption, not a documented fact).
    return datetime.strptime(text.strip(), "%m/%d/%Y %I:%M %p").replace(tzinfo=UTC)


def _int(text: str) -> int:
    text = text.strip()
    return int(text) if text else 0


def parse_rate(text: str) -> float | None:
    """'< 0.1%' -> 0.001 (at most that), '2.5%' -> 0.025, '' -> None."""
    if not text.strip():
        return None
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"complaint rate {text!r} is not 'N%' or '< N%'")
    return float(match.group(2)) / 100


def parse_csv(text: str) -> tuple[list[SndsRow], list[tuple[int, str]]]:
    rows: list[SndsRow] = []
    rejected: list[tuple[int, str]] = []
    for n, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not cells or not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) < COLUMNS - 1:
                raise ValueError(f"{len(cells)} columns, expected {COLUMNS}")
            cells = (cells + [""] * COLUMNS)[:COLUMNS]
            address = str(ipaddress.ip_address(cells[0].strip()))
            result = cells[6].strip().upper()
            if result not in _FILTERS:
                raise ValueError(f"filter result {cells[6]!r} is not GREEN, YELLOW or RED")
            rows.append(
                SndsRow(
                    address=address,
                    activity_start=_time(cells[1]),
                    activity_end=_time(cells[2]),
                    rcpt_commands=_int(cells[3]),
                    data_commands=_int(cells[4]),
                    recipients=_int(cells[5]),
                    filter_result=result,
                    complaint_rate_text=cells[7].strip(),
                    complaint_rate=parse_rate(cells[7]),
                    trap_hits=_int(cells[10]),
                    sample_helo=cells[11].strip()[:255],
                    sample_mail_from=cells[12].strip()[:255],
                    comments=cells[13].strip()[:500],
                )
            )
        except ValueError as exc:
            rejected.append((n, str(exc)[:200]))
    return rows, rejected


def fetch(key: str, day: date | None = None) -> str:
    params = {"key": key}
    if day is not None:
        params["date"] = day.strftime("%m%d%y")
    reply = outbound_request("GET", f"{settings.SNDS_DATA_URL}?{urlencode(params)}")
    if reply.status != 200:
        raise SndsError(f"SNDS answered HTTP {reply.status} (check the key)")
    return reply.body.decode("utf-8", errors="replace")


def snds_import(*, account: ProviderAccount, day: date | None = None) -> ImportResult:
    """Import one SNDS day (default: the latest) for the account's key; a re-import updates in place."""
    result = ImportResult()
    try:
        text = fetch(account.snds_key, day)
    except (SndsError, OutboundError) as exc:
        result.error = str(exc)
        _finish(account, result.error)
        return result
    rows, result.rejected = parse_csv(text)
    ips = dict(IPAddress.objects.filter(address__in=[r.address for r in rows]).values_list("address", "pk"))
    with transaction.atomic():
        for row in rows:
            SndsIpStat.objects.update_or_create(
                address=row.address,
                activity_start=row.activity_start,
                defaults={
                    "ip_id": ips.get(row.address),
                    "activity_end": row.activity_end,
                    "day": row.activity_end.date(),
                    "rcpt_commands": row.rcpt_commands,
                    "data_commands": row.data_commands,
                    "recipients": row.recipients,
                    "filter_result": row.filter_result,
                    "complaint_rate_text": row.complaint_rate_text,
                    "complaint_rate": row.complaint_rate,
                    "trap_hits": row.trap_hits,
                    "sample_helo": row.sample_helo,
                    "sample_mail_from": row.sample_mail_from,
                    "comments": row.comments,
                    "fetched_at": timezone.now(),
                },
            )
    result.rows = len(rows)
    errors = "; ".join(f"line {n}: {why}" for n, why in result.rejected[:5])
    _finish(account, errors)
    return result


def snds_connection_test(*, account: ProviderAccount) -> ConnectionResult:
    """Fetch the latest data for the account's key and read it as the import would. Stores nothing."""
    if not account.snds_key:
        return ConnectionResult(False, "No SNDS key is stored for this account.")
    try:
        text = fetch(account.snds_key)
    except (SndsError, OutboundError) as exc:
        return ConnectionResult(False, f"SNDS refused the request: {exc}")
    rows, rejected = parse_csv(text)
    if rejected and not rows:
        line, why = rejected[0]
        return ConnectionResult(False, f"SNDS answered, but not in the expected format (line {line}: {why}).")
    ips = len({r.address for r in rows})
    note = f"; {len(rejected)} rows could not be read" if rejected else ""
    return ConnectionResult(
        True, f"SNDS accepted the key: {len(rows)} rows for {ips} IPs in the latest data{note}."
    )


def latest_by_ip(addresses: list[str], day: date) -> dict[str, SndsIpStat]:
    """Each IP's SNDS row for the period ending on ``day`` (or the day before: SNDS lags a day)."""
    rows = SndsIpStat.objects.filter(address__in=addresses, day__gte=day - timedelta(days=1), day__lte=day)
    found: dict[str, SndsIpStat] = {}
    for row in rows.order_by("address", "-activity_end"):
        found.setdefault(row.address, row)
    return found


def _finish(account: ProviderAccount, error: str) -> None:
    account.last_import_at, account.last_error = timezone.now(), error[:500]
    account.save(update_fields=["last_import_at", "last_error"])
