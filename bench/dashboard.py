"""Benchmark: every main dashboard page over production-scale data (issue 9, "the dashboard at scale").

Creates a scratch database (`ee_bench_dashboard`, dropped and recreated) on the server of DATABASE_URL, or
on the embedded Postgres when DATABASE_URL is unset, migrates it, runs `seed_scale` (100 tenants, 5,000
IPs in 300 pools over 20 servers, 2,000 domains, 90 days of stats; `--small` for a quick run), then
requests each page with Django's test client as an operator and as a tenant admin (tenant pages only).

Prints, per page and persona: p50 and p95 wall time (ms) over --repeat requests after --warmup requests,
and the SQL queries of one request. Goals: p95 < 150 ms on every page, and query counts that do not grow
with the rows shown (the list pages' tests assert that).

    .venv/bin/python bench/dashboard.py [--small] [--repeat 20] [--warmup 2] [--reuse] [--only PATH]
        [--database NAME]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _common import scale_database

DB_NAME = "ee_bench_dashboard"
GOAL_MS = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a tenth of the data (quick run)")
    parser.add_argument("--repeat", type=int, default=20, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per page first")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the existing scratch database and its data"
    )
    parser.add_argument("--only", action="append", default=[], help="only pages whose path starts with this")
    parser.add_argument("--database", default=DB_NAME, help=f"the scratch database (default {DB_NAME})")
    args = parser.parse_args()

    scale_database(args.database, small=args.small, reuse=args.reuse)
    results = _measure(args)
    _report(results)


def _targets() -> dict[str, object]:
    """The objects the detail pages show, all belonging to the benchmark tenant (the first scale tenant)."""
    from django.contrib.auth import get_user_model

    from campaigns.models import Campaign
    from domains.models import SendingDomain
    from emailengine.scale import PREFIX
    from ips.models import IPAddress
    from tenants.models import Membership, Tenant
    from warmup.models import IPWarmup

    user_model = get_user_model()
    tenant = Tenant.objects.filter(slug__startswith=PREFIX).order_by("slug").first()
    assert tenant is not None, "no scale data"
    operator, _ = user_model.objects.get_or_create(
        username=f"{PREFIX}bench-operator", defaults={"is_staff": True}
    )
    admin = Membership.objects.filter(tenant=tenant, role="admin").select_related("user").first().user
    warmup = IPWarmup.objects.filter(ip__pool__tenant=tenant).select_related("ip").order_by("pk").first()
    ip = warmup.ip if warmup else IPAddress.objects.filter(pool__tenant=tenant).order_by("pk").first()
    pool = ip.pool
    server = ip.server
    domain = SendingDomain.objects.filter(tenant=tenant).order_by("pk").first()
    campaign = Campaign.objects.filter(tenant=tenant).order_by("pk").first()
    from campaigns.models import DeliveryEvent

    event = DeliveryEvent.objects.filter(tenant=tenant).order_by("pk").first()
    return {
        "tenant": tenant,
        "operator": operator,
        "admin": admin,
        "ip": ip,
        "pool": pool,
        "server": server,
        "domain": domain,
        "campaign": campaign,
        "address": event.rcpt if event else "nobody@example.com",
    }


def _pages(t: dict) -> list[tuple[str, bool]]:
    """(path, tenant users may see it)."""
    return [
        ("/", True),
        ("/ips/", True),
        (f"/ips/{t['ip'].pk}/", True),
        ("/pools/", True),
        (f"/pools/{t['pool'].pk}/", True),
        ("/servers/", False),
        (f"/servers/{t['server'].pk}/", False),
        (f"/servers/{t['server'].pk}/config/", False),
        ("/domains/", True),
        (f"/domains/{t['domain'].pk}/", True),
        ("/reputation/", True),
        (f"/reputation/ips/{t['ip'].pk}/", True),
        ("/campaigns/", True),
        (f"/campaigns/{t['campaign'].pk}/", True),
        ("/bounces/", True),
        (f"/messages/?q={t['address']}", True),
        ("/suppression/", True),
        ("/imports/", False),
        ("/warmup/", True),
        (f"/warmup/ips/{t['ip'].pk}/", True),
        ("/warmup/plans/", False),
        ("/audit/", True),
        ("/tenants/", False),
    ]


def _measure(args: argparse.Namespace) -> list[dict]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    t = _targets()
    personas = [("operator", t["operator"]), ("tenant admin", t["admin"])]
    # Measure the way production serves: deploy/gunicorn.conf.py freezes each worker's loaded objects
    # (gc.freeze) so full collections do not walk them.
    import gc

    gc.collect()
    gc.freeze()
    results = []
    for path, tenant_visible in _pages(t):
        if args.only and not any(path.startswith(prefix) for prefix in args.only):
            continue
        for persona, user in personas:
            if persona != "operator" and not tenant_visible:
                continue
            client = Client()
            client.force_login(user)
            for _ in range(args.warmup):
                response = client.get(path)
                assert response.status_code == 200, (path, persona, response.status_code)
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            queries = len(ctx.captured_queries)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, persona, response.status_code)
            results.append(
                {
                    "page": path.split("?")[0] if "?" not in path else path.split("=")[0] + "=…",
                    "persona": persona,
                    "p50": statistics.median(times),
                    "p95": _percentile(times, 95),
                    "queries": queries,
                }
            )
            print(f"  measured {path} as {persona}", file=sys.stderr)
    return results


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _report(results: list[dict]) -> None:
    width = max(len(r["page"]) for r in results)
    print(f"{'page':<{width}}  {'persona':<12} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}  goal")
    for r in results:
        verdict = "pass" if r["p95"] < GOAL_MS else "FAIL"
        print(
            f"{r['page']:<{width}}  {r['persona']:<12} {r['p50']:>8.1f} {r['p95']:>8.1f} "
            f"{r['queries']:>8}  {verdict}"
        )
    failing = [r for r in results if r["p95"] >= GOAL_MS]
    worst = max(results, key=lambda r: r["p95"])
    print()
    print(f"p95 < {GOAL_MS:.0f} ms: {len(results) - len(failing)}/{len(results)} pass", end="")
    print(f"; failing: {', '.join(f'{r["page"]} ({r["persona"]})' for r in failing)}" if failing else "")
    print(
        f"worst page: {worst['page']} as {worst['persona']}: "
        f"p95 {worst['p95']:.1f} ms, {worst['queries']} queries"
    )


if __name__ == "__main__":
    main()
