"""Demo delivery data for seed_demo (idempotent): two weeks of daily stats per demo IP, a handful of
events, suppression entries and one import-history file, so every campaigns page has something to show.

Written straight onto the models (numbers are made up, deterministically); the importer is not involved.
Re-running updates the same rows: DailyStat by its unique key, events by fingerprint, the rest by name.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, time, timedelta

from campaigns.models import AccountingFile, Campaign, DailyStat, DeliveryEvent, ImportRejection, Suppression
from core.dates import utc_today
from ips.models import IPAddress
from tenants.models import Tenant

DEMO_ACTOR = "system: demo"
DEMO_DAYS = 14

# tenant slug -> (campaign key, name), sending IPs (ips/demo.py DEMO_IPS)
DEMO_CAMPAIGNS = {
    "sos-expat": (
        [("sos-newsletter-w1", "SOS-Expat newsletter"), ("sos-onboarding", "SOS-Expat onboarding")],
        ["203.0.113.10", "203.0.113.11", "203.0.113.12"],
    ),
    "ulixai": ([("ulixai-promo", "Ulixai spring promo")], ["203.0.113.13", "203.0.113.14"]),
}
# recipient domain -> share of traffic
DEMO_DOMAINS = [
    ("gmail.com", 40),
    ("outlook.com", 15),
    ("hotmail.fr", 10),
    ("yahoo.fr", 12),
    ("orange.fr", 13),
    ("free.fr", 10),
]
BOUNCE_CATEGORIES = [("bad-mailbox", 5), ("quota-issues", 2), ("spam-related", 1), ("policy-related", 1)]

DEMO_EVENTS = [
    # (rcpt, type, outcome, bounce_cat, dsn_status, dsn_diag, feedback_type, hours ago)
    ("marie.dupont@gmail.com", "d", "delivered", "", "2.0.0 (success)", "smtp;250 2.0.0 OK", "", 30),
    ("marie.dupont@gmail.com", "f", "complaint", "", "", "", "abuse", 6),
    (
        "old.user@orange.fr",
        "b",
        "hard_bounce",
        "bad-mailbox",
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 <old.user@orange.fr>: Recipient address rejected: User unknown",
        "",
        20,
    ),
    (
        "nobody@yahoo.fr",
        "b",
        "hard_bounce",
        "other",
        "5.0.0 (undefined status)",
        "smtp;554 delivery error: dd This user doesn't have a yahoo.fr account (nobody@yahoo.fr) [0]",
        "",
        18,
    ),
    (
        "full.box@free.fr",
        "t",
        "transient",
        "quota-issues",
        "4.2.2 (mailbox full)",
        "smtp;452 4.2.2 Mailbox full",
        "",
        12,
    ),
    (
        "full.box@free.fr",
        "b",
        "soft_bounce",
        "quota-issues",
        "4.2.2 (mailbox full)",
        "smtp;452 4.2.2 Mailbox full",
        "",
        3,
    ),
    (
        "jean@outlook.com",
        "t",
        "transient",
        "policy-related",
        "4.7.650 (delivery not authorized)",
        "smtp;451 4.7.650 The mail server [203.0.113.10] has been temporarily rate limited",
        "",
        9,
    ),
    (
        "jean@outlook.com",
        "d",
        "delivered",
        "",
        "2.0.0 (success)",
        "smtp;250 2.6.0 Queued mail for delivery",
        "",
        8,
    ),
]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("demo|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _day_counts(rng: random.Random, volume: int) -> dict[str, object]:
    hard = int(volume * rng.uniform(0.002, 0.02))
    soft = int(volume * rng.uniform(0.001, 0.01))
    complaints = int(volume * rng.uniform(0.0, 0.002))
    cats: dict[str, int] = {}
    remaining = hard + soft
    for name, weight in BOUNCE_CATEGORIES:
        n = min(remaining, round((hard + soft) * weight / 9))
        if n:
            cats[name] = n
            remaining -= n
    if remaining:
        cats["other"] = remaining
    return {
        "delivered": volume - hard - soft,
        "hard_bounces": hard,
        "soft_bounces": soft,
        "complaints": complaints,
        "transient": int(volume * rng.uniform(0.01, 0.05)),
        "bounce_categories": cats,
    }


def seed(tenants: list[Tenant]) -> dict[str, int]:
    today = utc_today()
    by_slug = {t.slug: t for t in tenants}
    ips = {
        ip.address: ip
        for ip in IPAddress.objects.filter(
            address__in=[a for _, (_, addrs) in DEMO_CAMPAIGNS.items() for a in addrs]
        )
    }
    for slug, (campaigns, addresses) in DEMO_CAMPAIGNS.items():
        tenant = by_slug.get(slug)
        if tenant is None:
            continue
        for c_index, (key, name) in enumerate(campaigns):
            first = datetime.combine(today - timedelta(days=DEMO_DAYS - 1), time(6), UTC)
            campaign, _ = Campaign.objects.update_or_create(
                tenant=tenant,
                key=key,
                defaults={"name": name, "first_seen": first, "last_seen": datetime.now(UTC)},
            )
            for offset in range(DEMO_DAYS):
                day = today - timedelta(days=offset)
                for address in addresses:
                    for domain, share in DEMO_DOMAINS:
                        rng = random.Random(f"{key}|{day}|{address}|{domain}")
                        volume = int(
                            share * rng.uniform(8, 20) * (1 + (DEMO_DAYS - offset) / 7) / (c_index + 1)
                        )
                        DailyStat.objects.update_or_create(
                            day=day,
                            source_ip=address,
                            vmta=f"vmta-{address.replace('.', '-')}",
                            rcpt_domain=domain,
                            campaign_key=key,
                            tenant=tenant,
                            defaults={
                                "campaign": campaign,
                                "ip": ips.get(address),
                                **_day_counts(rng, volume),
                            },
                        )
        _seed_events(tenant, campaigns[0][0], addresses[0], ips.get(addresses[0]))
    _seed_import_history()
    return {
        "campaigns": Campaign.objects.count(),
        "daily stats": DailyStat.objects.count(),
        "delivery events": DeliveryEvent.objects.count(),
        "suppressed addresses": Suppression.objects.count(),
    }


def _seed_events(tenant: Tenant, campaign_key: str, address: str, ip: IPAddress | None) -> None:
    campaign = Campaign.objects.get(tenant=tenant, key=campaign_key)
    now = datetime.now(UTC)
    for rcpt, rtype, outcome, cat, status, diag, feedback, hours in DEMO_EVENTS:
        event, _ = DeliveryEvent.objects.get_or_create(
            fingerprint=_fingerprint(tenant.slug, rcpt, rtype, hours),
            defaults={
                "time_logged": now - timedelta(hours=hours),
                "type": rtype,
                "outcome": outcome,
                "rcpt": rcpt,
                "rcpt_domain": rcpt.rpartition("@")[2],
                "source_ip": address,
                "vmta": f"vmta-{address.replace('.', '-')}",
                "dsn_status": status,
                "dsn_diag": diag,
                "bounce_cat": cat,
                "feedback_type": feedback,
                "campaign_key": campaign_key,
                "campaign": campaign,
                "tenant": tenant,
                "ip": ip,
            },
        )
        if outcome in ("hard_bounce", "complaint"):
            Suppression.objects.get_or_create(
                tenant=tenant,
                email=rcpt,
                defaults={
                    "reason": outcome,
                    "source_event": event,
                    "detail": (diag or feedback)[:300],
                    "created_by": "system: accounting import",
                },
            )
    Suppression.objects.get_or_create(
        tenant=tenant,
        email=f"unsubscribed-by-phone@{tenant.slug}.example",
        defaults={"reason": Suppression.Reason.MANUAL, "detail": "asked by phone", "created_by": DEMO_ACTOR},
    )


def _seed_import_history() -> None:
    day = utc_today() - timedelta(days=1)
    source, created = AccountingFile.objects.get_or_create(
        path=f"/var/log/pmta/acct-{day:%Y-%m-%d}-0000.csv",
        defaults={
            "status": AccountingFile.Status.DONE,
            "offset": 482113,
            "size": 482113,
            "lines": 2051,
            "records_read": 2050,
            "imported": 2046,
            "duplicates": 2,
            "rejected": 2,
            "by_type": {"d": 1990, "b": 41, "t": 12, "f": 3},
            "header": [
                "type",
                "timeLogged",
                "orig",
                "rcpt",
                "dsnStatus",
                "dsnDiag",
                "bounceCat",
                "dlvSourceIp",
            ],
        },
    )
    if created:
        ImportRejection.objects.create(
            file=source,
            line=118,
            reason="bad timeLogged '2025-13-01 99:00:00+0000'",
            raw="d,2025-13-01 99:00:00+0000,news@sos-expat.example,a@gmail.com",
        )
        ImportRejection.objects.create(file=source, line=1520, reason="unknown record type 'x'", raw="x,,,")
