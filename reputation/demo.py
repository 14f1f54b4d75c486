"""Demo blocklist data for seed_demo (idempotent): the catalogue, and one recorded sweep to look at.

No real DNS is queried: the demo sweep's verdicts are made up here (one minor listing, one resolver error,
everything else clean) and applied through the same code a real sweep uses.
"""

from __future__ import annotations

from django.utils import timezone

from reputation import services
from reputation.dnsbl.engine import MEANING_CLEAN, MEANING_SERVFAIL, Result
from reputation.models import Blocklist, Kind, Listing, Sweep

DEMO_LISTED = ("203.0.113.13", "uceprotect-l3", "127.0.0.2")
DEMO_ERROR = ("203.0.113.10", "barracuda")


def seed() -> dict[str, int]:
    services.catalogue_load()
    if not Sweep.objects.exists():
        _demo_sweep()
    return {
        "blocklists": Blocklist.objects.count(),
        "blocklist listings": Listing.objects.filter(cleared_at__isnull=True).count(),
    }


def _demo_sweep() -> None:
    ips, domains = services.sweep_inventory(None)
    lists = services.enabled_lists()
    targets = [(a, Kind.IP) for a in ips] + [(d, Kind.DOMAIN) for d in domains]
    results = []
    for target, kind in targets:
        for bl in lists:
            if bl.kind != kind:
                continue
            if (target, bl.key, "127.0.0.2") == DEMO_LISTED:
                meaning = bl.codes.get("127.0.0.2", "listed")
                results.append(Result(target, bl.key, bl.zone, "listed", "127.0.0.2", meaning))
            elif (target, bl.key) == DEMO_ERROR:
                results.append(Result(target, bl.key, bl.zone, "error", "", MEANING_SERVFAIL))
            else:
                results.append(Result(target, bl.key, bl.zone, "clean", "", MEANING_CLEAN))
    record = Sweep.objects.create(trigger=Sweep.Trigger.COMMAND)
    services.sweep_apply(record, results, lists, ips, domains)
    record.finished_at = timezone.now()
    record.duration = 1.0
    record.targets, record.queries = len(targets), len(results)
    record.listed = sum(r.status == "listed" for r in results)
    record.errors = sum(r.status == "error" for r in results)
    record.save()
