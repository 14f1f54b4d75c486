"""Blocklist sweeps and their consequences: listings opened and cleared, audit events, IPs put on hold.

The DNS work happens outside any transaction (it can take a while); the results are then applied in one
transaction, serialised by an advisory lock so two overlapping sweeps cannot both open the same listing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.audit import Author, audit_record
from domains.models import InvalidDomainName, SendingDomain, normalise_domain
from ips.models import IPAddress, IPStatus
from ips.services import TransitionError, ip_pause
from reputation.dnsbl.engine import Result, sweep
from reputation.models import Blocklist, CheckState, CheckStatus, Kind, Listing, ProviderAccount, Sweep
from reputation.providers import ConnectionResult

SYSTEM = "system: dnsbl sweep"
# Arbitrary but fixed: the key of the Postgres advisory lock that serialises applying sweep results.
_APPLY_LOCK = 0x444E53424C  # "DNSBL"


class InvalidTarget(ValueError):
    pass


# --- running the engine ------------------------------------------------------------------------------------


def target_kind(text: str) -> tuple[str, str]:
    """(normalised target, "ip" | "domain") for what a person typed; InvalidTarget if it is neither."""
    value = (text or "").strip()
    try:
        return str(ipaddress.ip_address(value)), Kind.IP
    except ValueError:
        pass
    try:
        return normalise_domain(value), Kind.DOMAIN
    except InvalidDomainName as exc:
        raise InvalidTarget(f"{value!r} is neither an IP address nor a domain name: {exc}") from None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def enabled_lists() -> list[Blocklist]:
    return list(Blocklist.objects.filter(enabled=True).order_by("kind", "name"))


def _lookup(targets: Sequence[tuple[str, str]], lists: Sequence[Blocklist]) -> list[Result]:
    """Every target against every enabled list of its kind, one Result per pair.

    Lists with their own DQS key are queried in a group per key (the engine takes one key per call); the
    groups run concurrently in one event loop and share the concurrency budget. The zone in each result is
    the list's display zone, so the key (a secret) never reaches the database or the output.
    """
    if not targets or not lists:
        return []
    groups: dict[str, list[Blocklist]] = defaultdict(list)
    for row in lists:
        groups[row.dqs_key if row.uses_dqs else ""].append(row)
    budget = max(1, int(settings.DNSBL_CONCURRENCY) // len(groups))

    async def run_all() -> list[list[Result]]:
        return await asyncio.gather(
            *(
                sweep(
                    targets,
                    [row.as_entry() for row in rows],
                    nameservers=list(settings.DNS_NAMESERVERS),
                    timeout=float(settings.DNSBL_TIMEOUT),
                    concurrency=budget,
                    dqs_key=key or None,
                )
                for key, rows in groups.items()
            )
        )

    by_key = {row.key: row for row in lists}
    found: dict[tuple[str, str], Result] = {}
    for results in asyncio.run(run_all()):
        for result in results:
            row = by_key[result.list_key]
            found[(result.target, result.list_key)] = dataclasses.replace(result, zone=row.display_zone)
    # Back in input order: targets first, then lists in catalogue order.
    return [
        found[(target, row.key)]
        for target, kind in targets
        for row in lists
        if row.kind == kind and (target, row.key) in found
    ]


def lookup_adhoc(targets: Iterable[str]) -> list[Result]:
    """Check IPs or domains (in the inventory or not) against the enabled lists; nothing is stored."""
    pairs = list(dict.fromkeys(target_kind(text) for text in targets))
    return _lookup(pairs, enabled_lists())


# --- a stored sweep ----------------------------------------------------------------------------------------


def sweep_inventory(
    only: Iterable[str] | None,
) -> tuple[dict[str, IPAddress], dict[str, SendingDomain]]:
    ips = IPAddress.objects.exclude(status=IPStatus.RETIRED).select_related("pool")
    domains = SendingDomain.objects.all()
    if only is not None:
        wanted = list(only)
        # Only addresses go to the inet column: PostgreSQL refuses to cast a domain name to inet.
        addresses = [t for t in wanted if _is_address(t)]
        ips = ips.filter(address__in=addresses)
        domains = domains.filter(name__in=[t for t in wanted if t not in addresses])
    return {ip.address: ip for ip in ips}, {d.name: d for d in domains}


def sweep_run(*, targets: Iterable[str] | None = None, trigger: str = Sweep.Trigger.SCHEDULE) -> Sweep:
    """Sweep every IP that is not retired and every sending domain (or only ``targets`` of the inventory).

    Changes are applied and audited; standing listings only get their last_seen moved, and error results
    change nothing, so an unreachable list never opens nor clears a listing.
    """
    record = Sweep.objects.create(trigger=trigger)
    clock = time.monotonic()
    try:
        ips, domains = sweep_inventory(targets)
        pairs = [(address, Kind.IP) for address in ips] + [(name, Kind.DOMAIN) for name in domains]
        lists = enabled_lists()
        results = _lookup(pairs, lists)
        sweep_apply(record, results, lists, ips, domains)
    except Exception as exc:
        Sweep.objects.filter(pk=record.pk).update(
            failure=f"{type(exc).__name__}: {exc}"[:2000],
            duration=time.monotonic() - clock,
        )
        raise
    record.targets = len(pairs)
    record.queries = len(results)
    record.listed = sum(1 for r in results if r.status == CheckStatus.LISTED)
    record.errors = sum(1 for r in results if r.status == CheckStatus.ERROR)
    record.finished_at = timezone.now()
    record.duration = time.monotonic() - clock
    # Not stored: every verdict of this sweep, for callers that print them (the sweep_dnsbl command).
    record.results = results
    record.save(
        update_fields=[
            "targets",
            "queries",
            "listed",
            "errors",
            "new_listings",
            "cleared",
            "finished_at",
            "duration",
        ]
    )
    return record


def _tenant_of(ip: IPAddress | None, domain: SendingDomain | None) -> Any:
    if ip is not None:
        return ip.pool.tenant_id if ip.pool_id else None  # type: ignore[union-attr]
    return domain.tenant_id if domain is not None else None


@transaction.atomic
def sweep_apply(
    record: Sweep,
    results: list[Result],
    lists: list[Blocklist],
    ips: dict[str, IPAddress],
    domains: dict[str, SendingDomain],
) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPLY_LOCK])
    now = timezone.now()
    by_key = {row.key: row for row in lists}
    swept_targets = list({r.target for r in results})
    open_listings = {
        (listing.target, listing.blocklist_id): listing
        for listing in Listing.objects.filter(
            cleared_at__isnull=True, target__in=swept_targets
        ).select_related("blocklist")
    }
    breaker_check(lists, results, ips, now)
    states = []
    still_listed: list[int] = []
    new_listings: list[Listing] = []
    for result in results:
        row = by_key[result.list_key]
        kind = Kind.IP if result.target in ips else Kind.DOMAIN
        ip, domain = ips.get(result.target), domains.get(result.target)
        states.append(
            CheckState(
                target=result.target,
                target_kind=kind,
                ip=ip,
                domain=domain,
                blocklist=row,
                status=result.status,
                code=result.code[:200],
                meaning=result.meaning[:500],
                checked_at=now,
            )
        )
        listing = open_listings.get((result.target, row.pk))
        if result.status == CheckStatus.LISTED:
            if listing is None:
                new_listings.append(
                    Listing(
                        target=result.target,
                        target_kind=kind,
                        ip=ip,
                        domain=domain,
                        tenant_id=_tenant_of(ip, domain),
                        blocklist=row,
                        code=result.code[:200],
                        meaning=result.meaning[:500],
                        first_seen=now,
                        last_seen=now,
                    )
                )
            elif listing.code != result.code[:200]:
                _listing_recode(listing, result, now)
            else:
                still_listed.append(listing.pk)
        elif result.status in (CheckStatus.CLEAN, CheckStatus.REPUTATION) and listing is not None:
            # A grade is not a listing: a listing left from before the list was known as a scale closes too.
            _listing_clear(listing, now)
            record.cleared += 1
        # An error leaves the listing (or its absence) exactly as it was.
    if still_listed:
        Listing.objects.filter(pk__in=still_listed).update(last_seen=now)
    for listing in new_listings:
        _listing_open(listing)
        record.new_listings += 1
    if states:
        CheckState.objects.bulk_create(
            states,
            update_conflicts=True,
            unique_fields=["target", "blocklist"],
            update_fields=["target_kind", "ip", "domain", "status", "code", "meaning", "checked_at"],
            batch_size=1000,
        )


def _listing_open(listing: Listing) -> None:
    listing.save()
    # audit_record takes the tenant from listing.tenant_id, so tenant users see it in their audit log.
    audit_record(
        action="dnsbl.listed",
        by=SYSTEM,
        obj=listing,
        after={"list": listing.blocklist.key, "code": listing.code, "meaning": listing.meaning},
    )
    ip = listing.ip
    # Only a critical list's listing of this very IP holds it: a /24 or ASN listing (UCEPROTECT L2/L3) says
    # nothing about the IP itself, and a list whose circuit breaker tripped holds nothing.
    if (
        ip is not None
        and listing.blocklist.can_hold
        and settings.DNSBL_HOLD_ON_CRITICAL
        and ip.status not in (IPStatus.PAUSED, IPStatus.RETIRED)
    ):
        try:
            ip_pause(
                ip=ip,
                by=SYSTEM,
                reason=f"listed on {listing.blocklist.name} ({listing.meaning})"[:300],
            )
        except TransitionError:
            return
        listing.hold_applied = True
        listing.save(update_fields=["hold_applied"])


def breaker_check(lists: list[Blocklist], results: list[Result], ips: dict[str, IPAddress], now: Any) -> None:
    """Trip (or reset) each list's circuit breaker from this sweep's IP verdicts.

    One list reporting a large share of the swept fleet at once (DNSBL_BREAKER_SHARE of at least
    DNSBL_BREAKER_MIN_TARGETS IPs) is far likelier broken, or refusing us with an answer it does not
    document, than right about the whole fleet: its listings are still recorded, but automatic pauses stand
    down and the emailengine_dnsbl_breaker_tripped alert fires. A later sweep under the share resets it.
    """
    swept: dict[str, int] = defaultdict(int)
    listed: dict[str, int] = defaultdict(int)
    for result in results:
        if result.target not in ips or result.status == CheckStatus.ERROR:
            continue
        swept[result.list_key] += 1
        listed[result.list_key] += result.status == CheckStatus.LISTED
    share_needed, minimum = settings.DNSBL_BREAKER_SHARE, settings.DNSBL_BREAKER_MIN_TARGETS
    for row in lists:
        n, hits = swept.get(row.key, 0), listed.get(row.key, 0)
        if n < minimum:
            continue  # too few IPs swept to judge; the breaker keeps its state
        share = hits / n
        if share >= share_needed and row.breaker_tripped_at is None:
            row.breaker_tripped_at = now
            row.breaker_detail = (
                f"listed {hits:,} of {n:,} swept IPs ({share:.0%}) at once, threshold {share_needed:.0%}"
            )
            row.save(update_fields=["breaker_tripped_at", "breaker_detail", "updated_at"])
            audit_record(
                action="dnsbl.breaker_tripped",
                by=SYSTEM,
                obj=row,
                after={"listed": hits, "swept": n, "share": round(share, 4), "threshold": share_needed},
                reason="automatic pauses from this list stand down until a sweep finds it under the share",
            )
        elif share < share_needed and row.breaker_tripped_at is not None:
            before = {"tripped_at": row.breaker_tripped_at.isoformat(), "detail": row.breaker_detail}
            row.breaker_tripped_at, row.breaker_detail = None, ""
            row.save(update_fields=["breaker_tripped_at", "breaker_detail", "updated_at"])
            audit_record(
                action="dnsbl.breaker_reset",
                by=SYSTEM,
                obj=row,
                before=before,
                after={"listed": hits, "swept": n, "share": round(share, 4)},
            )


def _listing_recode(listing: Listing, result: Result, now: Any) -> None:
    before = {"code": listing.code, "meaning": listing.meaning}
    listing.code, listing.meaning, listing.last_seen = result.code[:200], result.meaning[:500], now
    listing.save(update_fields=["code", "meaning", "last_seen"])
    audit_record(
        action="dnsbl.changed",
        by=SYSTEM,
        obj=listing,
        before=before,
        after={"code": listing.code, "meaning": listing.meaning},
    )


def _listing_clear(listing: Listing, now: Any) -> None:
    listing.cleared_at = now
    listing.save(update_fields=["cleared_at"])
    # The IP stays on hold if the listing put it there: resuming is an operator's decision.
    audit_record(
        action="dnsbl.cleared",
        by=SYSTEM,
        obj=listing,
        before={"list": listing.blocklist.key, "code": listing.code, "since": listing.first_seen.isoformat()},
        after={"cleared": True},
    )


# --- the catalogue -----------------------------------------------------------------------------------------

EDITABLE_FIELDS = ("enabled", "severity", "delist_url")


@transaction.atomic
def blocklist_update(
    *, blocklist: Blocklist, by: Author, dqs_key: str | None = None, **changes: Any
) -> Blocklist:
    """Change what operators may change on a list; ``dqs_key``: None keeps it, "" removes it.

    The key itself is never written to the audit log, only that it changed.
    """
    fields = [
        name for name in EDITABLE_FIELDS if name in changes and getattr(blocklist, name) != changes[name]
    ]
    before = {name: getattr(blocklist, name) for name in fields}
    for name in fields:
        setattr(blocklist, name, changes[name])
    after = {name: getattr(blocklist, name) for name in fields}
    if dqs_key is not None and dqs_key != blocklist.dqs_key:
        before["dqs_key_set"] = bool(blocklist.dqs_key)
        blocklist.dqs_key = dqs_key
        after["dqs_key_set"] = bool(dqs_key)
        fields.append("dqs_key")
    if not fields:
        return blocklist
    blocklist.save(update_fields=[*fields, "updated_at"])
    audit_record(action="blocklist.update", by=by, obj=blocklist, before=before, after=after)
    return blocklist


def catalogue_load() -> int:
    """Create the shipped lists that are missing (never touches existing rows); returns how many."""
    from reputation.dnsbl.catalogue import CATALOGUE, blocklist_to_dict

    created = 0
    for entry in CATALOGUE:
        data = blocklist_to_dict(entry)
        key = data.pop("key")
        _, made = Blocklist.objects.get_or_create(key=key, defaults=data)
        created += made
    return created


# --- provider accounts (Google Postmaster Tools v2, Microsoft SNDS) -----------------------------------------

PROVIDER_ACCOUNT_FIELDS = ("kind", "tenant_id", "label", "client_id", "enabled")
# Write-only: stored encrypted (core.crypto), never shown back, never written to the audit log (only whether
# each is set and which were replaced).
PROVIDER_SECRETS = ("client_secret", "refresh_token", "snds_key")
# What each kind needs before an import can run.
PROVIDER_REQUIRED: dict[str, tuple[str, ...]] = {
    ProviderAccount.Kind.POSTMASTER: ("client_id", "client_secret", "refresh_token"),
    ProviderAccount.Kind.SNDS: ("snds_key",),
}
PROVIDER_FIELD_NAMES = {
    "client_id": "the OAuth client ID",
    "client_secret": "the OAuth client secret",
    "refresh_token": "the refresh token",
    "snds_key": "the SNDS key",
}


class ProviderAccountError(ValueError):
    """A provider account that cannot be saved as asked; the message says what is missing."""


def _provider_state(account: ProviderAccount) -> dict[str, Any]:
    state: dict[str, Any] = {name: getattr(account, name) for name in PROVIDER_ACCOUNT_FIELDS}
    state.update({f"{name}_set": bool(getattr(account, name)) for name in PROVIDER_SECRETS})
    return state


@transaction.atomic
def provider_account_save(
    *,
    account: ProviderAccount | None,
    by: Author,
    kind: str,
    tenant_id: int | None,
    label: str,
    client_id: str = "",
    enabled: bool = True,
    secrets: dict[str, str] | None = None,
) -> ProviderAccount:
    """Create (``account=None``) or change a provider account. ``secrets``: the write-only values to
    replace (an absent or empty one keeps what is stored). ``tenant_id=None`` is the operator's account,
    which reads every tenant's domains; the caller decides who may choose it (views: operators only).
    The kind of an existing account never changes: its stored secrets belong to that kind."""
    if account is not None and account.kind != kind:
        raise ProviderAccountError("The kind of an account cannot change: add a new account instead.")
    if kind not in PROVIDER_REQUIRED:
        raise ProviderAccountError(f"Unknown provider {kind!r}.")
    creating = account is None
    if account is None:
        account = ProviderAccount(kind=kind)
    before = None if creating else _provider_state(account)
    account.tenant_id, account.label, account.enabled = tenant_id, label.strip(), enabled
    account.client_id = client_id.strip() if kind == ProviderAccount.Kind.POSTMASTER else ""
    replaced = []
    for name, value in (secrets or {}).items():
        if name not in PROVIDER_SECRETS:
            raise ProviderAccountError(f"{name} is not a provider secret.")
        if value:
            setattr(account, name, value)
            replaced.append(name)
    missing = [name for name in PROVIDER_REQUIRED[kind] if not getattr(account, name)]
    if missing:
        names = ", ".join(PROVIDER_FIELD_NAMES[n] for n in missing)
        raise ProviderAccountError(f"{account.get_kind_display()} needs: {names}.")
    if not account.label:
        raise ProviderAccountError("Give the account a label.")
    after = _provider_state(account)
    if not creating and before == after and not replaced:
        return account
    account.save()
    audit_record(
        action="provider_account.create" if creating else "provider_account.update",
        by=by,
        obj=account,
        before=before,
        after={**after, "secrets_replaced": replaced},
    )
    return account


def provider_account_delete(*, account: ProviderAccount, by: Author) -> None:
    audit_record(action="provider_account.delete", by=by, obj=account, before=_provider_state(account))
    account.delete()


def provider_account_test(*, account: ProviderAccount, by: Author) -> ConnectionResult:
    """Test connection through the guarded outbound client (core.outbound), as the daily import connects.
    Changes nothing stored; the attempt and its outcome are audited (it sends the stored secrets out)."""
    from reputation.providers.postmaster import postmaster_connection_test
    from reputation.providers.snds import snds_connection_test

    if account.kind == ProviderAccount.Kind.POSTMASTER:
        result = postmaster_connection_test(account=account)
    else:
        result = snds_connection_test(account=account)
    audit_record(
        action="provider_account.test", by=by, obj=account, after={"ok": result.ok, "message": result.message}
    )
    return result
