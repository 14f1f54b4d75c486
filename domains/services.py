"""Workflows on sending domains: create/update/delete, DKIM key rotation, and running the DNS checks.

Every mutation writes one audit event on the domain (object_type domains.sendingdomain), so the domain's
timeline is one indexed query over the audit log.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import dns.exception
import dns.resolver
import dns.reversename
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import Author, audit_record
from core.dnsresolver import make_resolver
from domains.checks import CheckResult, check_dkim, check_dmarc, check_mx, check_spf
from domains.dkim_keys import DEFAULT_TTL, generate_keypair
from domains.models import (
    CheckName,
    CheckStatus,
    DkimKey,
    DomainCheck,
    KeyState,
    Ownership,
    SendingDomain,
    normalise_domain,
    worst_status,
)
from domains.pmta_fragment import key_files_tarball
from ips.models import IPAddress, IPStatus, MtaServer
from ips.rdns import check_rdns
from tenants.models import Tenant

DEFAULT_KEY_BITS = 2048
DEFAULT_GRACE = timedelta(days=7)
SYSTEM_CHECK = "system: domain check"
SYSTEM_RETIRE = "system: dkim retire"


class DomainError(ValueError):
    """A request that cannot be carried out; the message is shown to the user as is."""


class RotationError(DomainError):
    pass


# --- domains -----------------------------------------------------------------------------------------


def _is_operator(by: Author) -> bool:
    """Operators are staff users; "system: ..." labels are the project's own commands and schedules."""
    return isinstance(by, str) or bool(getattr(by, "is_staff", False))


@transaction.atomic
def domain_create(
    *,
    tenant: Tenant,
    name: str,
    by: Author,
    return_path_domain: str = "",
    expected_dmarc_policy: str = "quarantine",
    key_bits: int = DEFAULT_KEY_BITS,
    selector: str = "",
    skip_verification: bool = False,
) -> SendingDomain:
    """Add a domain with its first DKIM key, active at once: the records to publish include it.

    The domain is pending until its TXT token is found (``domain_ownership_verify``), unless an operator
    skips that (``skip_verification``, audited). Whether another tenant has claimed the same name is never
    told: claims coexist while pending, and only a verified one holds the name.
    """
    ascii_name = normalise_domain(name)
    return_path = normalise_domain(return_path_domain) if return_path_domain else ""
    if skip_verification and not _is_operator(by):
        raise DomainError("Only operators can skip the ownership check.")
    if SendingDomain.objects.filter(tenant=tenant, name=ascii_name).exists():
        raise DomainError(f"{ascii_name} is already one of this tenant's domains.")
    domain = SendingDomain(
        tenant=tenant,
        name=ascii_name,
        return_path_domain=return_path or SendingDomain.default_return_path(ascii_name),
        expected_dmarc_policy=expected_dmarc_policy,
    )
    if skip_verification:
        domain.ownership, domain.verified_at = Ownership.OPERATOR, timezone.now()
    try:
        with transaction.atomic():
            domain.save()
    except IntegrityError:
        if skip_verification and _verified_elsewhere(domain):
            # Only operators get here, and they see every tenant anyway.
            raise DomainError(f"{ascii_name} is already verified for another tenant.") from None
        raise DomainError(f"{ascii_name} is already one of this tenant's domains.") from None
    key = _new_key(domain, bits=key_bits, selector=selector or new_selector(domain))
    key.state = KeyState.ACTIVE
    key.activated_at = key.created_at
    key.save()
    audit_record(
        action="domain.create",
        by=by,
        obj=domain,
        after={
            "name": domain.name,
            "return_path_domain": domain.return_path_domain,
            "expected_dmarc_policy": domain.expected_dmarc_policy,
            "selector": key.selector,
            "key_bits": key.bits,
            "ownership": domain.ownership,
        },
    )
    return domain


# --- ownership ---------------------------------------------------------------------------------------

NOT_VERIFIABLE = (
    "{name} cannot be verified for this tenant, although the record is published. Ask an operator to look "
    "at it."
)


@dataclass(frozen=True)
class OwnershipResult:
    verified: bool
    explanation: str


def _verified_elsewhere(domain: SendingDomain) -> bool:
    return (
        SendingDomain.objects.filter(name=domain.name)
        .exclude(pk=domain.pk)
        .exclude(ownership=Ownership.PENDING)
        .exists()
    )


def ownership_record_found(domain: SendingDomain, resolver: dns.resolver.Resolver) -> OwnershipResult:
    """Look up the domain's verification TXT record; never raises for what DNS answers."""
    qname = domain.verification_record_name
    try:
        answer = resolver.resolve(qname, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return OwnershipResult(False, f"No TXT record at {qname} yet.")
    except dns.exception.DNSException as exc:
        return OwnershipResult(False, f"The DNS lookup of {qname} failed ({exc.__class__.__name__}); retry.")
    values = [b"".join(rdata.strings).decode("utf-8", "replace").strip() for rdata in answer]
    if domain.verification_record_value in values:
        return OwnershipResult(True, f"The TXT record at {qname} carries the token.")
    return OwnershipResult(False, f"The TXT record at {qname} does not carry this domain's token.")


def domain_ownership_verify(
    *, domain: SendingDomain, by: Author, resolver: dns.resolver.Resolver | None = None
) -> OwnershipResult:
    """Verify a pending domain by its TXT token (the page's button and the periodic DNS check)."""
    if domain.is_verified:
        return OwnershipResult(True, "Ownership is verified.")
    found = ownership_record_found(domain, resolver or default_resolver())
    if not found.verified:
        return found
    with transaction.atomic():
        locked = SendingDomain.objects.select_for_update().get(pk=domain.pk)
        if locked.is_verified:
            return OwnershipResult(True, "Ownership is verified.")
        if _verified_elsewhere(locked):
            raise DomainError(NOT_VERIFIABLE.format(name=locked.name))
        locked.ownership, locked.verified_at = Ownership.DNS, timezone.now()
        locked.save(update_fields=["ownership", "verified_at"])
        audit_record(
            action="domain.verify",
            by=by,
            obj=locked,
            before={"ownership": Ownership.PENDING},
            after={"ownership": locked.ownership, "record": locked.verification_record_name},
        )
    domain.ownership, domain.verified_at = locked.ownership, locked.verified_at
    return OwnershipResult(True, found.explanation)


@transaction.atomic
def domain_ownership_skip(*, domain: SendingDomain, by: Author, reason: str) -> None:
    """An operator vouches for a domain without the DNS proof (audited with the reason)."""
    if not _is_operator(by):
        raise DomainError("Only operators can skip the ownership check.")
    if not reason.strip():
        raise DomainError("Say why the DNS proof is skipped.")
    locked = SendingDomain.objects.select_for_update().get(pk=domain.pk)
    if locked.is_verified:
        return
    if _verified_elsewhere(locked):
        raise DomainError(f"{locked.name} is already verified for another tenant.")
    locked.ownership, locked.verified_at = Ownership.OPERATOR, timezone.now()
    locked.save(update_fields=["ownership", "verified_at"])
    audit_record(
        action="domain.verify_skip",
        by=by,
        obj=locked,
        before={"ownership": Ownership.PENDING},
        after={"ownership": locked.ownership},
        reason=reason.strip()[:500],
    )
    domain.ownership, domain.verified_at = locked.ownership, locked.verified_at


@transaction.atomic
def domain_update(
    *, domain: SendingDomain, by: Author, return_path_domain: str, expected_dmarc_policy: str
) -> SendingDomain:
    changes = {
        "return_path_domain": normalise_domain(return_path_domain)
        if return_path_domain
        else SendingDomain.default_return_path(domain.name),
        "expected_dmarc_policy": expected_dmarc_policy,
    }
    before = {field: getattr(domain, field) for field in changes}
    fields = [field for field, value in changes.items() if before[field] != value]
    if not fields:
        return domain
    for field in fields:
        setattr(domain, field, changes[field])
    domain.save(update_fields=fields)
    audit_record(
        action="domain.update",
        by=by,
        obj=domain,
        before={f: before[f] for f in fields},
        after={f: changes[f] for f in fields},
    )
    return domain


@transaction.atomic
def domain_delete(*, domain: SendingDomain, by: Author) -> None:
    """Delete the domain, its keys and check results; the audit event outlives them."""
    selectors = list(domain.keys.values_list("selector", flat=True))
    audit_record(
        action="domain.delete",
        by=by,
        obj=domain,
        before={"name": domain.name, "selectors": selectors},
    )
    domain.delete()


# --- DKIM keys and rotation --------------------------------------------------------------------------


def new_selector(domain: SendingDomain, now: datetime | None = None) -> str:
    """A fresh selector named after the month ("ee202611"), with a suffix if that one is taken."""
    base = f"ee{(now or timezone.now()):%Y%m}"
    taken = (
        set(DkimKey.objects.filter(domain=domain).values_list("selector", flat=True)) if domain.pk else set()
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}s{suffix}" in taken:
        suffix += 1
    return f"{base}s{suffix}"


def _new_key(domain: SendingDomain, *, bits: int, selector: str) -> DkimKey:
    selector = selector.strip().lower()
    _validate_selector(selector)
    private_pem, public_b64 = generate_keypair(bits)
    return DkimKey(
        domain=domain, selector=selector, bits=bits, private_key=private_pem, public_key_b64=public_b64
    )


def _validate_selector(selector: str) -> None:
    # One DNS label of letters, digits and hyphens: it becomes part of SELECTOR._domainkey.DOMAIN and of
    # the key file name PMTA reads.
    if not selector or len(selector) > 63:
        raise DomainError("A selector is 1 to 63 characters.")
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in selector) or selector.startswith("-"):
        raise DomainError("A selector uses only letters, digits and hyphens.")


def _key_in_state(domain: SendingDomain, state: str) -> DkimKey | None:
    return DkimKey.objects.filter(domain=domain, state=state).order_by("-created_at").first()


@transaction.atomic
def rotation_start(
    *, domain: SendingDomain, by: Author, bits: int = DEFAULT_KEY_BITS, selector: str = ""
) -> DkimKey:
    """Step 1: a new pending key on a new selector. The active key keeps signing meanwhile."""
    SendingDomain.objects.select_for_update().filter(pk=domain.pk).first()
    if _key_in_state(domain, KeyState.PENDING):
        raise RotationError("A rotation is already in progress: verify and activate or cancel it first.")
    selector = (selector or new_selector(domain)).strip().lower()
    if DkimKey.objects.filter(domain=domain, selector=selector).exists():
        raise RotationError(f"Selector {selector} was used before; pick a new one.")
    key = _new_key(domain, bits=bits, selector=selector)
    key.save()
    audit_record(
        action="dkim.rotation_start",
        by=by,
        obj=domain,
        after={"selector": key.selector, "bits": key.bits, "state": key.state},
    )
    return key


@dataclass(frozen=True)
class Verification:
    key: DkimKey
    result: CheckResult


@transaction.atomic
def rotation_verify(
    *, domain: SendingDomain, by: Author, resolver: dns.resolver.Resolver | None = None
) -> Verification:
    """Step 2: is the pending key's TXT record published and correct? Stored as the dkim_pending check."""
    key = _key_in_state(domain, KeyState.PENDING)
    if key is None:
        raise RotationError("There is no new key to verify; start a rotation first.")
    result = _check_key(domain, key, resolver or default_resolver(), name=CheckName.DKIM_PENDING)
    before = _store_result(domain, result, by=by, audit=False)
    if result.is_ok:
        key.verified_at = timezone.now()
        key.save(update_fields=["verified_at"])
    audit_record(
        action="dkim.rotation_verify",
        by=by,
        obj=domain,
        before={"status": before} if before else None,
        after={"selector": key.selector, "status": result.status, "explanation": result.explanation},
    )
    return Verification(key=key, result=result)


def rotation_activate(
    *,
    domain: SendingDomain,
    by: Author,
    resolver: dns.resolver.Resolver | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> DkimKey:
    """Step 3: the pending key signs from now on; the old key stays published for ``grace``.

    The pending key is checked again here, so a record removed since "verify" cannot make receivers fail
    every signature. Both state changes happen in one transaction: there is never a moment with no
    active key (the database also refuses two).
    """
    key = _key_in_state(domain, KeyState.PENDING)
    if key is None:
        raise RotationError("There is no new key to activate; start a rotation first.")
    # DNS first, outside the transaction: a failed check is stored (the wizard shows it), then refused.
    result = _check_key(domain, key, resolver or default_resolver(), name=CheckName.DKIM_PENDING)
    if not result.is_ok:
        _store_result(domain, result, by=by, audit=False)
        raise RotationError(
            f"The new key is not published correctly yet ({result.status}: {result.explanation}). "
            "Publish the record, wait for DNS, then verify again."
        )
    with transaction.atomic():
        return _activate(domain, key, result, by=by, grace=grace)


def _activate(
    domain: SendingDomain, key: DkimKey, result: CheckResult, *, by: Author, grace: timedelta
) -> DkimKey:
    SendingDomain.objects.select_for_update().filter(pk=domain.pk).first()
    key.refresh_from_db(fields=["state"])
    if key.state != KeyState.PENDING:
        raise RotationError("The new key was activated or cancelled meanwhile.")
    now = timezone.now()
    old = _key_in_state(domain, KeyState.ACTIVE)
    if old is not None:
        old.state = KeyState.RETIRING
        old.retire_after = now + grace
        old.save(update_fields=["state", "retire_after"])
    key.state = KeyState.ACTIVE
    key.activated_at = now
    key.verified_at = key.verified_at or now
    key.save(update_fields=["state", "activated_at", "verified_at"])
    # The new key's check is now the domain's DKIM check; the pending slot is empty again.
    DomainCheck.objects.filter(domain=domain, name=CheckName.DKIM_PENDING).delete()
    _store_result(domain, _renamed(result, CheckName.DKIM), by=by, audit=False)
    _refresh_summary(domain)
    audit_record(
        action="dkim.rotation_activate",
        by=by,
        obj=domain,
        before={"active": old.selector if old else None},
        after={
            "active": key.selector,
            "retiring": old.selector if old else None,
            "retire_after": old.retire_after.isoformat() if old and old.retire_after else None,
        },
    )
    return key


@transaction.atomic
def rotation_cancel(*, domain: SendingDomain, by: Author) -> None:
    """Drop a pending key that was never activated (nothing ever signed with it)."""
    key = _key_in_state(domain, KeyState.PENDING)
    if key is None:
        raise RotationError("There is no rotation in progress.")
    selector = key.selector
    key.delete()
    DomainCheck.objects.filter(domain=domain, name=CheckName.DKIM_PENDING).delete()
    _refresh_summary(domain)
    audit_record(action="dkim.rotation_cancel", by=by, obj=domain, before={"pending": selector})


@transaction.atomic
def rotation_retire(
    *, domain: SendingDomain, selector: str, by: Author, force: bool = False, now: datetime | None = None
) -> DkimKey:
    """Step 4: a retiring key is retired once its grace period is over (or earlier, if ``force``).

    Only operators may force (the view enforces it): mail signed with the old key may still be queued.
    """
    now = now or timezone.now()
    key = DkimKey.objects.filter(domain=domain, selector=selector).first()
    if key is None or key.state != KeyState.RETIRING:
        raise RotationError(f"Selector {selector} is not a retiring key.")
    if not force and not key.grace_over(now):
        raise RotationError(
            f"Selector {selector} stays published until {key.retire_after:%Y-%m-%d %H:%M} UTC."
        )
    key.state = KeyState.RETIRED
    key.retired_at = now
    key.save(update_fields=["state", "retired_at"])
    audit_record(
        action="dkim.rotation_retire",
        by=by,
        obj=domain,
        before={"selector": selector, "state": KeyState.RETIRING},
        after={"selector": selector, "state": KeyState.RETIRED, "forced": force and not key.grace_over(now)},
    )
    return key


def dkim_retire_expired(*, now: datetime | None = None) -> int:
    """Retire every retiring key whose grace period is over; returns how many."""
    now = now or timezone.now()
    count = 0
    due = DkimKey.objects.filter(state=KeyState.RETIRING, retire_after__lte=now).select_related("domain")
    for key in due:
        rotation_retire(domain=key.domain, selector=key.selector, by=SYSTEM_RETIRE, now=now)
        count += 1
    return count


# --- DNS checks --------------------------------------------------------------------------------------


def default_resolver() -> dns.resolver.Resolver:
    return make_resolver(settings.DNS_NAMESERVERS, timeout=settings.DNS_TIMEOUT)


def pool_ips(tenant_id: int) -> list[IPAddress]:
    """The tenant's sending IPs: every IP in its pools that is not retired."""
    return list(
        IPAddress.objects.filter(pool__tenant_id=tenant_id)
        .exclude(status=IPStatus.RETIRED)
        .order_by("address")
    )


def bounce_hosts(tenant_id: int) -> list[str]:
    """Hostnames of the PMTA hosts behind the tenant's pools: where bounces should arrive."""
    names = (
        MtaServer.objects.filter(pools__tenant_id=tenant_id)
        .exclude(hostname="")
        .order_by("name")
        .values_list("hostname", flat=True)
        .distinct()
    )
    return list(dict.fromkeys(names))


def domain_check_results(
    domain: SendingDomain, resolver: dns.resolver.Resolver | None = None
) -> list[CheckResult]:
    """Run every check of ``domain`` without storing anything.

    The checks are independent, so they run side by side: a slow or dead zone costs one DNS timeout for
    the whole recheck instead of one per check (the "Recheck now" button waits for this).
    """
    resolver = resolver or default_resolver()
    # Every database read happens here, before the threads start: the checks themselves only do DNS.
    ips = pool_ips(domain.tenant_id)
    addresses = [ip.address for ip in ips]
    hosts = bounce_hosts(domain.tenant_id)
    keys = {key.state: key for key in domain.keys.filter(state__in=[KeyState.ACTIVE, KeyState.PENDING])}
    rp = domain.return_path_domain
    jobs: list[Callable[[], CheckResult]] = [
        lambda: _labelled(
            check_spf(rp, resolver=resolver, authorised_ips=addresses),
            f"checked at {rp}, the return-path domain",
        )
    ]
    active, pending = keys.get(KeyState.ACTIVE), keys.get(KeyState.PENDING)
    if active is not None:
        jobs.append(lambda: _check_key(domain, active, resolver, name=CheckName.DKIM))
    else:
        jobs.append(
            lambda: CheckResult("dkim", "missing", "the domain has no active DKIM key; start a rotation")
        )
    if pending is not None:
        jobs.append(lambda: _check_key(domain, pending, resolver, name=CheckName.DKIM_PENDING))
    jobs.append(
        lambda: check_dmarc(
            domain.name,
            resolver=resolver,
            return_path_domain=rp,
            expected_policy=domain.expected_dmarc_policy,
        )
    )
    jobs.append(lambda: check_mx(rp, resolver=resolver, expected_hosts=hosts))
    jobs.append(lambda: check_ptr(ips, resolver=resolver))
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="domain-check") as executor:
        return list(executor.map(lambda job: job(), jobs))


def domain_check_run(
    *, domain: SendingDomain, resolver: dns.resolver.Resolver | None = None, by: Author = SYSTEM_CHECK
) -> list[DomainCheck]:
    """Run every check, store the latest results, and audit each check whose status changed.

    A pending domain is verified here too once its TXT token is published."""
    if not domain.is_verified:
        # A name verified by another tenant is explained by the page's button; the checks still run.
        with contextlib.suppress(DomainError):
            domain_ownership_verify(domain=domain, by=by, resolver=resolver)
    # DNS can take seconds: query first, then store everything in one short transaction.
    results = domain_check_results(domain, resolver)
    with transaction.atomic():
        for result in results:
            _store_result(domain, result, by=by, audit=True)
        names = [result.check for result in results]
        DomainCheck.objects.filter(domain=domain).exclude(name__in=names).delete()
        domain.last_checked_at = timezone.now()
        domain.save(update_fields=["last_checked_at"])
        _refresh_summary(domain)
    return sorted(domain.checks.all(), key=lambda check: check.order)


def _store_result(domain: SendingDomain, result: CheckResult, *, by: Author, audit: bool) -> str | None:
    """Save ``result`` as the domain's latest; returns the previous status (None if never checked)."""
    now = timezone.now()
    current = DomainCheck.objects.filter(domain=domain, name=result.check).first()
    before = current.status if current else None
    if current is None:
        current = DomainCheck(domain=domain, name=result.check, changed_at=now)
    elif before != result.status:
        current.changed_at = now
    current.status = result.status
    current.explanation = result.explanation
    current.expected_record = result.expected_record
    current.details = result.details
    current.checked_at = now
    current.save()
    if audit and before != result.status:
        audit_record(
            action="domain.check",
            by=by,
            obj=domain,
            before={"check": result.check, "status": before} if before else None,
            after={"check": result.check, "status": result.status, "explanation": result.explanation},
        )
    return before


def _refresh_summary(domain: SendingDomain) -> None:
    statuses = list(
        DomainCheck.objects.filter(domain=domain)
        .exclude(name=CheckName.DKIM_PENDING)
        .values_list("status", flat=True)
    )
    status = worst_status(statuses)
    if status != domain.status:
        domain.status = status
        domain.save(update_fields=["status"])


def _check_key(
    domain: SendingDomain, key: DkimKey, resolver: dns.resolver.Resolver, *, name: str
) -> CheckResult:
    result = check_dkim(domain.name, key.selector, resolver=resolver, public_key_b64=key.public_key_b64)
    details = {**result.details, "selector": key.selector, "key_state": key.state}
    return CheckResult(name, result.status, result.explanation, result.expected_record, details)


def _renamed(result: CheckResult, name: str) -> CheckResult:
    return CheckResult(name, result.status, result.explanation, result.expected_record, result.details)


def _labelled(result: CheckResult, where: str) -> CheckResult:
    # The SPF that DMARC aligns is the envelope sender's; say which name was checked.
    return CheckResult(
        result.check, result.status, f"{result.explanation} [{where}]", result.expected_record, result.details
    )


_RDNS_TO_STATUS = {
    "ok": CheckStatus.OK,
    "mismatch": CheckStatus.INVALID,
    "missing": CheckStatus.MISSING,
    "unknown": CheckStatus.UNKNOWN,
}


def check_ptr(ips: list[IPAddress], *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Forward-confirmed rDNS of every pool IP, live; ok only if every IP is ok."""
    if not ips:
        return CheckResult(
            "ptr",
            CheckStatus.WARNING,
            "the tenant has no sending IPs in its pools yet, so there is no PTR to check",
        )
    per_ip: dict[str, dict[str, str]] = {}
    statuses: list[str] = []
    problems: list[str] = []
    fixes: list[str] = []
    for ip in ips:
        rdns = check_rdns(ip.address, resolver=resolver, expected_hostname=ip.hostname or None)
        status = _RDNS_TO_STATUS[rdns.status]
        statuses.append(status)
        per_ip[ip.address] = {"status": rdns.status, "ptr": rdns.ptr, "explanation": rdns.explanation}
        if status != CheckStatus.OK:
            problems.append(rdns.explanation)
            fixes.extend(_ptr_fix(ip, rdns.ptr))
    overall = worst_status(statuses)
    if overall == CheckStatus.OK:
        explanation = f"all {len(ips)} sending IPs have forward-confirmed rDNS"
    else:
        explanation = f"{len(problems)} of {len(ips)} sending IPs: " + "; ".join(problems)
    return CheckResult("ptr", overall, explanation, "\n".join(fixes), {"ips": per_ip})


def _ptr_fix(ip: IPAddress, ptr: str) -> list[str]:
    hostname = ip.hostname or ptr
    if not hostname:
        return []
    hostname = hostname.rstrip(".")
    reverse = dns.reversename.from_address(ip.address).to_text()
    rtype = "A" if ipaddress.ip_address(ip.address).version == 4 else "AAAA"
    return [
        f"{reverse} {DEFAULT_TTL} IN PTR {hostname}.",
        f"{hostname}. {DEFAULT_TTL} IN {rtype} {ip.address}",
    ]


def dkim_keys_export(*, server: MtaServer | None, by: Author) -> tuple[bytes, int]:
    """The active private keys as a .tar.gz for PMTA; the only way keys leave Email Engine, so audited."""
    data, count = key_files_tarball(server)
    audit_record(
        action="dkim.export", by=by, after={"keys": count, "server": server.name if server else None}
    )
    return data, count
