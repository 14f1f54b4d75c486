"""MailWizz workflows: save a tenant's settings, sync its campaigns, and feed hard bounces and complaints
from PMTA accounting back to MailWizz through an outbox.

Feedback is two steps, both per tenant and both safe to run again:
1. ``mailwizz_feedback_enqueue`` scans new DeliveryEvents (id above the tenant's watermark, minus an overlap
   so a batch committed late by a parallel import is not skipped) and inserts one MailWizzOutbox row per
   (tenant, kind, email, campaign uid). The unique constraint makes each one exist once, so it is sent at
   most once however often the scan repeats.
2. ``mailwizz_feedback_send`` claims due pending rows (a short lease, so two workers never post the same row)
   and posts them: a hard bounce becomes ``POST campaigns/{uid}/bounces`` (bounce_type hard, with the
   subscriber uid looked up in the campaign's list), a complaint becomes ``PUT lists/subscribers/
   unsubscribe-by-email-from-all-lists``. Failures are retried with exponential backoff and marked failed
   after MAILWIZZ_FEEDBACK_MAX_ATTEMPTS; a 404 (no such subscriber/campaign) fails at once.

Schedules run these without an audit event per row (they change no one's settings); every change a person
makes (settings, sync now, retry) writes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, DeliveryEvent
from core.audit import Author, audit_record
from core.outbound import OutboundError, check_outbound_url
from mailwizz.client import (
    MailWizzAuthError,
    MailWizzClient,
    MailWizzError,
    MailWizzNotFound,
    MailWizzRefused,
    MailWizzUnavailable,
)
from mailwizz.models import MailWizzCampaign, MailWizzConfig, MailWizzOutbox
from tenants.models import Tenant

HARD_BOUNCE = "hard_bounce"
COMPLAINT = "complaint"
# A claimed row is not picked again for this long, even if its worker dies mid-send.
CLAIM_LEASE = timedelta(minutes=5)

PUBLIC_FIELDS = ["base_url", "mode", "header_prefix", "campaign_key_prefix", "enabled"]


class MailWizzConfigError(ValueError):
    """Settings that cannot work (no key, 1.x without its private key, a URL that is not allowed)."""


class MailWizzOutboxError(ValueError):
    """An outbox action that does not apply to the row (e.g. retrying one that is not failed)."""


def describe_error(exc: MailWizzError) -> str:
    """A short, secret-free line for last_error and the pages."""
    if isinstance(exc, MailWizzAuthError):
        kind = "access refused"
    elif isinstance(exc, MailWizzRefused):
        kind = "not allowed"
    elif isinstance(exc, MailWizzUnavailable):
        kind = "unavailable"
    elif isinstance(exc, MailWizzNotFound):
        kind = "not found"
    else:
        kind = "error"
    return f"{kind}: {exc}"[:1000]


# --- settings ----------------------------------------------------------------------------------------------


def check_base_url(url: str) -> str:
    """http(s) only, and no address this server refuses to connect to (core/outbound.py; host names are
    checked again on every connection, where it counts)."""
    try:
        return check_outbound_url(url)
    except OutboundError as exc:
        raise MailWizzConfigError(str(exc)) from None


def public_snapshot(config: MailWizzConfig) -> dict[str, Any]:
    """What the audit log may keep: the settings and whether each key is set, never the keys."""
    return {
        **{f: getattr(config, f) for f in PUBLIC_FIELDS},
        "api_key_set": config.api_key_set,
        "private_key_set": config.private_key_set,
    }


def mailwizz_config_save(
    *,
    tenant: Tenant,
    by: Author,
    base_url: str,
    mode: str,
    header_prefix: str = "X-Mw-",
    campaign_key_prefix: str = "mailwizz-",
    enabled: bool = True,
    api_key: str = "",
    private_key: str = "",
) -> MailWizzConfig:
    """Create or update a tenant's MailWizz settings. Keys are write-only: an empty one keeps the stored
    value. One audit event, with ``*_changed`` flags instead of the secrets."""
    if mode not in MailWizzConfig.Mode.values:
        raise MailWizzConfigError(f"Unknown mode {mode!r}.")
    base_url = check_base_url(base_url)
    with transaction.atomic():
        config = MailWizzConfig.objects.select_for_update().filter(tenant=tenant).first()
        created = config is None
        if config is None:
            config = MailWizzConfig(tenant=tenant)
        before = None if created else public_snapshot(config)
        config.base_url = base_url
        config.mode = mode
        config.header_prefix = header_prefix.strip()
        config.campaign_key_prefix = campaign_key_prefix.strip()
        config.enabled = enabled
        api_key, private_key = api_key.strip(), private_key.strip()
        if api_key:
            config.api_key = api_key
        if private_key:
            config.private_key = private_key
        if not config.api_key:
            raise MailWizzConfigError("Enter the API key.")
        if config.mode == MailWizzConfig.Mode.MW1 and not config.private_key:
            raise MailWizzConfigError("MailWizz 1.x signs requests: enter the private key too.")
        config.updated_at = timezone.now()
        config.save()
        after = {
            **public_snapshot(config),
            "api_key_changed": bool(api_key),
            "private_key_changed": bool(private_key),
        }
        audit_record(
            action="mailwizz.config_create" if created else "mailwizz.config_update",
            by=by,
            obj=config,
            tenant=tenant,
            before=before,
            after=after,
        )
    return config


def mailwizz_client_for(config: MailWizzConfig, *, timeout: float | None = None) -> MailWizzClient:
    return MailWizzClient(
        base_url=config.base_url,
        api_key=config.api_key,
        mode=config.mode,
        private_key=config.private_key,
        timeout=timeout if timeout is not None else float(settings.MAILWIZZ_TIMEOUT),
    )


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


# What the outbox does where a write route is missing, and what would give it the route (PMTA-NOTES 4).
ROUTE_FALLBACKS = {
    "bounce": (
        "POST campaigns/{uid}/bounces",
        "hard bounces unsubscribe the address from the campaign's list instead (MailWizz 1.3.8.3 and older "
        "1.x have no bounce route; 2.x does)",
    ),
    "unsubscribe_all": (
        "PUT lists/subscribers/unsubscribe-by-email-from-all-lists",
        "complaints unsubscribe the address from each of its lists one by one (search-by-email-in-all-lists "
        "needs MailWizz 1.3.6.2 or later)",
    ),
}


def mailwizz_routes_check(*, config: MailWizzConfig, client: MailWizzClient | None = None) -> dict[str, bool]:
    """Find out which write routes this MailWizz serves and remember it on the config (changes nothing
    in MailWizz)."""
    routes = (client or mailwizz_client_for(config)).routes_available()
    config.routes, config.routes_checked_at = routes, timezone.now()
    MailWizzConfig.objects.filter(pk=config.pk).update(
        routes=routes, routes_checked_at=config.routes_checked_at
    )
    return routes


def mailwizz_connection_test(*, config: MailWizzConfig) -> ConnectionResult:
    """One cheap authenticated call (a one-campaign page), then which write routes the outbox can use
    there; changes nothing in MailWizz."""
    client = mailwizz_client_for(config)
    try:
        count = client.ping()
        routes = mailwizz_routes_check(config=config, client=client)
    except MailWizzError as exc:
        return ConnectionResult(False, describe_error(exc))
    message = f"Connected; this key sees {count} campaign{'s' if count != 1 else ''}."
    missing = [name for name, there in routes.items() if not there]
    for name in missing:
        route, fallback = ROUTE_FALLBACKS[name]
        message += f" This MailWizz has no {route} route: {fallback}."
    if not missing:
        message += " Bounces and complaints use MailWizz's own routes."
    return ConnectionResult(True, message)


# --- campaign sync -----------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    ok: bool
    campaigns: int = 0
    renamed: int = 0
    error: str = ""


def _parse_time(value: Any) -> datetime | None:
    """MailWizz dates are "YYYY-MM-DD HH:MM:SS" (taken as UTC) or ISO 8601; anything else is None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("T", " ").replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year < 1971:  # "0000-00-00 00:00:00" and friends
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_campaign_record(record: dict[str, Any]) -> dict[str, Any] | None:
    """Leniently read one campaign record: uid, name, status, list uid/name (when present), send time."""
    uid = str(record.get("campaign_uid") or record.get("uid") or "").strip()
    if not uid or len(uid) > 64:
        return None
    lst = record.get("list")
    list_uid = list_name = ""
    if isinstance(lst, dict):
        list_uid = str(lst.get("list_uid") or lst.get("uid") or "")
        list_name = str(lst.get("name") or lst.get("display_name") or "")
    list_uid = list_uid or str(record.get("list_uid") or "")
    send_at = None
    for name in ("send_at", "date_sent", "started_at", "date_added"):
        send_at = _parse_time(record.get(name))
        if send_at:
            break
    return {
        "uid": uid,
        "name": str(record.get("name") or "")[:255],
        "status": str(record.get("status") or "")[:40],
        "list_uid": list_uid[:64],
        "list_name": list_name[:255],
        "send_at": send_at,
    }


def _store_campaigns(tenant_id: int, parsed: list[dict[str, Any]], now: datetime) -> None:
    # Listings without list data must not blank a list uid learnt earlier (feedback needs it).
    with_list = [p for p in parsed if p["list_uid"]]
    without = [p for p in parsed if not p["list_uid"]]
    common = ["name", "status", "send_at", "synced_at"]
    for rows, fields in ((with_list, [*common, "list_uid", "list_name"]), (without, common)):
        if rows:
            MailWizzCampaign.objects.bulk_create(
                [MailWizzCampaign(tenant_id=tenant_id, synced_at=now, **p) for p in rows],
                update_conflicts=True,
                unique_fields=["tenant", "uid"],
                update_fields=fields,
            )


def _apply_names(config: MailWizzConfig, names: dict[str, str]) -> int:
    """Name the accounting campaigns whose key maps to a synced MailWizz campaign."""
    if not names:
        return 0
    prefix = config.campaign_key_prefix
    keys = set(names) | ({prefix + uid for uid in names} if prefix else set())
    known = frozenset(names)
    changed = []
    for campaign in Campaign.objects.filter(tenant_id=config.tenant_id, key__in=keys).only(
        "pk", "key", "name"
    ):
        name = names.get(config.campaign_uid_for_key(campaign.key, known), "")
        if name and campaign.name != name:
            campaign.name = name
            changed.append(campaign)
    if changed:
        Campaign.objects.bulk_update(changed, ["name"], batch_size=500)
    return len(changed)


def mailwizz_sync_campaigns(*, tenant: Tenant, by: Author | None = None) -> SyncResult:
    """Fetch every campaign of the tenant's MailWizz, store them and name the matching accounting campaigns.

    Records the attempt time and the error (or none) on the config. ``by`` is given for "Sync now" (audited);
    the schedule passes nothing.
    """
    config = MailWizzConfig.objects.select_related("tenant").filter(tenant=tenant).first()
    if config is None:
        raise MailWizzConfigError("MailWizz is not set up for this tenant.")
    now = timezone.now()
    client = mailwizz_client_for(config)
    try:
        records = list(
            client.iter_campaigns(
                per_page=int(settings.MAILWIZZ_SYNC_PER_PAGE),
                max_pages=int(settings.MAILWIZZ_SYNC_MAX_PAGES),
            )
        )
    except MailWizzError as exc:
        result = SyncResult(ok=False, error=describe_error(exc))
        MailWizzConfig.objects.filter(pk=config.pk).update(last_sync_at=now, last_error=result.error)
    else:
        parsed = {p["uid"]: p for p in map(parse_campaign_record, records) if p}
        with transaction.atomic():
            _store_campaigns(config.tenant_id, list(parsed.values()), now)
            renamed = _apply_names(config, {uid: p["name"] for uid, p in parsed.items() if p["name"]})
            total = MailWizzCampaign.objects.filter(tenant_id=config.tenant_id).count()
            MailWizzConfig.objects.filter(pk=config.pk).update(
                last_sync_at=now, last_sync_ok_at=now, last_error="", campaigns_synced=total
            )
        result = SyncResult(ok=True, campaigns=len(parsed), renamed=renamed)
    if by is not None:
        audit_record(
            action="mailwizz.sync",
            by=by,
            obj=config,
            tenant=config.tenant,
            after={
                "ok": result.ok,
                "campaigns": result.campaigns,
                "renamed": result.renamed,
                "error": result.error,
            },
        )
    return result


# --- feedback: enqueue -------------------------------------------------------------------------------------


def _bounce_message(event: Mapping[str, Any]) -> str:
    parts = [event["dsn_status"], event["dsn_diag"]]
    text = " ".join(p.strip() for p in parts if p and p.strip())
    if event["bounce_cat"]:
        text = f"[{event['bounce_cat']}] {text}".strip()
    return (text or "Hard bounce reported by PowerMTA")[:250]


def _outbox_row(
    config: MailWizzConfig, event: Mapping[str, Any], known: frozenset[str]
) -> MailWizzOutbox | None:
    email = (event["rcpt"] or "").strip().lower()
    if "@" not in email or len(email) > 320:
        return None
    uid = config.campaign_uid_for_key(event["campaign_key"], known)
    if event["outcome"] == HARD_BOUNCE:
        if not uid:  # not a MailWizz campaign: nothing to post the bounce to
            return None
        kind, message = MailWizzOutbox.Kind.HARD_BOUNCE, _bounce_message(event)
    else:
        # Unsubscribing from all lists needs only the address: one per address (campaign_uid ''), whichever
        # campaign it came from, and also when the FBL record carries no campaign.
        kind = MailWizzOutbox.Kind.COMPLAINT
        about = f" about campaign {uid}" if uid else ""
        message = f"Complaint ({event['feedback_type'] or 'abuse'}){about} reported by PowerMTA"[:250]
        uid = ""
    return MailWizzOutbox(
        tenant_id=config.tenant_id,
        kind=kind,
        email=email,
        campaign_uid=uid[:64],
        message=message,
        event_id=event["pk"],
    )


def mailwizz_feedback_enqueue(*, config: MailWizzConfig, batch_size: int | None = None) -> int:
    """Queue the tenant's new hard bounces and complaints; returns how many rows were new."""
    batch_size = batch_size or int(settings.MAILWIZZ_ENQUEUE_BATCH)
    max_events = int(settings.MAILWIZZ_ENQUEUE_MAX_EVENTS)
    overlap = int(settings.MAILWIZZ_WATERMARK_OVERLAP)
    known = frozenset(
        MailWizzCampaign.objects.filter(tenant_id=config.tenant_id).values_list("uid", flat=True)
    )
    outbox = MailWizzOutbox.objects.filter(tenant_id=config.tenant_id)
    before = outbox.count()
    last = max(0, config.feedback_watermark - overlap)
    high, scanned = config.feedback_watermark, 0
    while scanned < max_events:
        events = list(
            DeliveryEvent.objects.filter(
                tenant_id=config.tenant_id, pk__gt=last, outcome__in=[HARD_BOUNCE, COMPLAINT]
            )
            .order_by("pk")
            .values(
                "pk",
                "outcome",
                "rcpt",
                "campaign_key",
                "dsn_status",
                "dsn_diag",
                "bounce_cat",
                "feedback_type",
            )[:batch_size]
        )
        if not events:
            break
        rows = [row for row in (_outbox_row(config, e, known) for e in events) if row is not None]
        if rows:
            MailWizzOutbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        last = events[-1]["pk"]
        high, scanned = max(high, last), scanned + len(events)
        if len(events) < batch_size:
            break
    if high > config.feedback_watermark:
        MailWizzConfig.objects.filter(pk=config.pk, feedback_watermark__lt=high).update(
            feedback_watermark=high
        )
        config.feedback_watermark = high
    return outbox.count() - before


# --- feedback: send ----------------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    stopped: str = ""  # why the run stopped early (MailWizz down or refusing the key)
    errors: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2x base, 4x base ... capped."""
    base = float(settings.MAILWIZZ_RETRY_BASE_SECONDS)
    cap = float(settings.MAILWIZZ_RETRY_MAX_SECONDS)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _claim(config: MailWizzConfig, *, limit: int, now: datetime) -> list[MailWizzOutbox]:
    with transaction.atomic():
        ids = list(
            MailWizzOutbox.objects.select_for_update(skip_locked=True)
            .filter(tenant_id=config.tenant_id, status=MailWizzOutbox.Status.PENDING)
            .filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            MailWizzOutbox.objects.filter(pk__in=ids).update(next_retry_at=now + CLAIM_LEASE)
    return list(MailWizzOutbox.objects.filter(pk__in=ids).order_by("pk"))


class _ListCache:
    """Campaign uid -> list uid, from the synced campaigns or, when unknown, from GET campaigns/{uid}."""

    def __init__(self, config: MailWizzConfig, client: MailWizzClient) -> None:
        self.config, self.client = config, client
        self.cache: dict[str, str] = {}

    def list_uid(self, campaign_uid: str) -> str:
        if campaign_uid in self.cache:
            return self.cache[campaign_uid]
        list_uid = (
            MailWizzCampaign.objects.filter(tenant_id=self.config.tenant_id, uid=campaign_uid)
            .values_list("list_uid", flat=True)
            .first()
        )
        if not list_uid:
            parsed = parse_campaign_record(
                {"campaign_uid": campaign_uid, **self.client.campaign(campaign_uid)}
            )
            if parsed:
                _store_campaigns(self.config.tenant_id, [parsed], timezone.now())
                list_uid = parsed["list_uid"]
        if not list_uid:
            raise MailWizzError(f"campaign {campaign_uid} has no list in MailWizz's reply")
        self.cache[campaign_uid] = list_uid
        return list_uid


def _deliver(client: MailWizzClient, lists: _ListCache, row: MailWizzOutbox, config: MailWizzConfig) -> None:
    """Post one outbox row through MailWizz's own route, or, where this MailWizz lacks it (1.x, see
    ROUTE_FALLBACKS), through routes it has."""
    if row.kind == MailWizzOutbox.Kind.COMPLAINT:
        if _route_call(
            config, client, "unsubscribe_all", lambda: client.unsubscribe_from_all_lists(email=row.email)
        ):
            return
        subscriptions = client.subscriptions_of(email=row.email)
        if not subscriptions:
            raise MailWizzNotFound(f"{row.email} is on none of this MailWizz's lists")
        for list_uid, subscriber_uid in subscriptions:
            client.unsubscribe(list_uid=list_uid, subscriber_uid=subscriber_uid)
        return
    list_uid = lists.list_uid(row.campaign_uid)
    subscriber_uid = client.subscriber_uid_by_email(list_uid=list_uid, email=row.email)

    def bounce() -> object:
        return client.campaign_bounce_create(
            campaign_uid=row.campaign_uid,
            subscriber_uid=subscriber_uid,
            message=row.message,
            bounce_type="hard",
        )

    if not _route_call(config, client, "bounce", bounce):
        client.unsubscribe(list_uid=list_uid, subscriber_uid=subscriber_uid)


def _route_call(config: MailWizzConfig, client: MailWizzClient, route: str, call: Any) -> bool:
    """Make ``call`` through write route ``route``; False when this MailWizz lacks the route (known from
    the connection test, or found now: a 404 from a route never checked makes us look, once)."""
    if not config.has_route(route):
        return False
    try:
        call()
    except MailWizzNotFound:
        if config.routes:  # checked, and the route is there: the subscriber or campaign is not
            raise
        if mailwizz_routes_check(config=config, client=client).get(route, True):
            raise
        return False
    return True


def mailwizz_feedback_send(
    *, config: MailWizzConfig, limit: int | None = None, now: datetime | None = None
) -> SendResult:
    """Post the tenant's due outbox rows to MailWizz."""
    result = SendResult()
    if not config.enabled:
        return result
    now = now or timezone.now()
    max_attempts = int(settings.MAILWIZZ_FEEDBACK_MAX_ATTEMPTS)
    rows = _claim(config, limit=limit or int(settings.MAILWIZZ_SEND_BATCH), now=now)
    client = mailwizz_client_for(config)
    lists = _ListCache(config, client)
    for index, row in enumerate(rows):
        row.attempts += 1
        try:
            _deliver(client, lists, row, config)
        except MailWizzError as exc:
            row.last_error = describe_error(exc)
            result.errors.append(f"{row.email}: {row.last_error}")
            if isinstance(exc, MailWizzNotFound) or row.attempts >= max_attempts:
                row.status, row.next_retry_at = MailWizzOutbox.Status.FAILED, None
                result.failed += 1
            else:
                row.next_retry_at = now + retry_delay(row.attempts)
                result.retrying += 1
            row.save(update_fields=["attempts", "status", "next_retry_at", "last_error"])
            if isinstance(exc, (MailWizzUnavailable, MailWizzAuthError)):
                # MailWizz is down or refuses the key: the rest would fail the same way. Put them back,
                # due when this one is, without counting an attempt.
                rest = [r.pk for r in rows[index + 1 :]]
                MailWizzOutbox.objects.filter(pk__in=rest).update(next_retry_at=row.next_retry_at or now)
                result.stopped = row.last_error
                break
        else:
            row.status, row.sent_at, row.next_retry_at, row.last_error = (
                MailWizzOutbox.Status.SENT,
                timezone.now(),
                None,
                "",
            )
            row.save(update_fields=["attempts", "status", "sent_at", "next_retry_at", "last_error"])
            result.sent += 1
    return result


def mailwizz_feedback_run(*, config_id: int) -> dict[str, Any]:
    """The schedule's unit of work for one tenant: enqueue new feedback, then send what is due."""
    config = MailWizzConfig.objects.filter(pk=config_id, enabled=True).first()
    if config is None:
        return {"skipped": True}
    queued = mailwizz_feedback_enqueue(config=config)
    sent = mailwizz_feedback_send(config=config)
    return {
        "queued": queued,
        "sent": sent.sent,
        "retrying": sent.retrying,
        "failed": sent.failed,
        "stopped": sent.stopped,
    }


def mailwizz_outbox_retry(*, row: MailWizzOutbox, by: Author) -> MailWizzOutbox:
    """Give a failed row one more try at the next send (its attempts are kept)."""
    if row.status != MailWizzOutbox.Status.FAILED:
        raise MailWizzOutboxError("Only failed entries can be retried.")
    before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status, row.next_retry_at = MailWizzOutbox.Status.PENDING, timezone.now()
    row.save(update_fields=["status", "next_retry_at"])
    audit_record(
        action="mailwizz.outbox_retry",
        by=by,
        obj=row,
        tenant=row.tenant,
        before=before,
        after={"status": row.status, "next_retry_at": row.next_retry_at.isoformat()},
    )
    return row
