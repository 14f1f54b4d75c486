"""Benchmark: the JSON API's main list endpoints over production-scale data (issue 18).

Builds the same data set as bench/dashboard.py, in its own scratch database (`ee_bench_api`, dropped and
recreated, so the two benchmarks can run side by side): seed_scale's 100 tenants, 5,000 IPs, 2,000 domains,
90 days of stats (`--small` for a tenth). Then calls each list through a real API token, as an operator and
as a tenant admin, with Django's test client.

Prints, per endpoint and persona: p50 and p95 wall time (ms) of a default page (50 items) over --repeat
requests after --warmup requests, and the SQL queries of a 10-item page and of a 500-item page. Goals:
p95 < 100 ms on every list, and the same query count for 10 and 500 items.

    .venv/bin/python bench/api.py [--small] [--repeat 20] [--warmup 2] [--reuse] [--only PATH]
        [--database NAME]
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import scale_database

DB_NAME = "ee_bench_api"
GOAL_MS = 100.0

# (path, query parameters, tenant users may call it)
LISTS: list[tuple[str, dict[str, str], bool]] = [
    ("ips", {}, True),
    ("ips", {"status": "active"}, True),
    ("pools", {}, True),
    ("servers", {}, False),
    ("domains", {}, True),
    ("listings", {"state": "all"}, True),
    ("warmup/assignments", {}, True),
    ("warmup/decisions", {}, True),
    ("campaigns", {}, True),
    ("stats/daily", {"by": "tenant"}, True),
    ("stats/daily", {"by": "ip"}, True),
    ("stats/daily", {"by": "provider"}, True),
    ("suppressions", {}, True),
    ("audit", {}, True),
]


def main() -> None:
    import dashboard

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a tenth of the data (quick run)")
    parser.add_argument("--repeat", type=int, default=20, help="measured requests per list")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per list first")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the existing scratch database and its data"
    )
    parser.add_argument("--only", action="append", default=[], help="only lists whose path starts with this")
    parser.add_argument("--database", default=DB_NAME, help=f"the scratch database (default {DB_NAME})")
    args = parser.parse_args()

    scale_database(args.database, small=args.small, reuse=args.reuse)
    results = _measure(args, dashboard)
    _report(results)


def _measure(args: argparse.Namespace, dashboard) -> list[dict]:
    import gc
    import statistics

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from testsupport.api import api_as

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    t = dashboard._targets()
    personas = [("operator", api_as(t["operator"], "bench")), ("tenant admin", api_as(t["admin"], "bench"))]
    # As production serves: deploy/gunicorn.conf.py freezes each worker's loaded objects (gc.freeze).
    gc.collect()
    gc.freeze()
    results = []
    for path, params, tenant_visible in LISTS:
        if args.only and not any(path.startswith(prefix) for prefix in args.only):
            continue
        for persona, client in personas:
            if persona != "operator" and not tenant_visible:
                continue
            for _ in range(args.warmup):
                response = client.get(path, **params)
                assert response.status_code == 200, (path, persona, response.content[:300])
            queries = {}
            for limit in (10, 500):
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(path, limit=limit, **params)
                assert response.status_code == 200, (path, persona, response.content[:300])
                queries[limit] = len(ctx.captured_queries)
            count = response.json()["count"]
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path, **params)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, persona, response.status_code)
            label = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
            results.append(
                {
                    "list": label,
                    "persona": persona,
                    "count": count,
                    "p50": statistics.median(times),
                    "p95": dashboard._percentile(times, 95),
                    "q10": queries[10],
                    "q500": queries[500],
                }
            )
            print(f"  measured {label} as {persona}", file=sys.stderr)
    return results


def _report(results: list[dict]) -> None:
    width = max(len(r["list"]) for r in results)
    print(
        f"{'list':<{width}}  {'persona':<12} {'rows':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'q@10':>5} {'q@500':>6}  goal"
    )
    for r in results:
        ok = r["p95"] < GOAL_MS and r["q10"] == r["q500"]
        print(
            f"{r['list']:<{width}}  {r['persona']:<12} {r['count']:>9} {r['p50']:>8.1f} {r['p95']:>8.1f} "
            f"{r['q10']:>5} {r['q500']:>6}  {'pass' if ok else 'FAIL'}"
        )
    slow = [r for r in results if r["p95"] >= GOAL_MS]
    growing = [r for r in results if r["q10"] != r["q500"]]
    worst = max(results, key=lambda r: r["p95"])
    print()
    print(f"p95 < {GOAL_MS:.0f} ms: {len(results) - len(slow)}/{len(results)} pass", end="")
    print(f"; failing: {', '.join(f'{r["list"]} ({r["persona"]})' for r in slow)}" if slow else "")
    print(f"query count flat from 10 to 500 items: {len(results) - len(growing)}/{len(results)}")
    print(f"worst list: {worst['list']} as {worst['persona']}: p95 {worst['p95']:.1f} ms")


if __name__ == "__main__":
    main()
