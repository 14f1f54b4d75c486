"""Benchmark: the daily warmup ramp over 5,000 warming IPs with 30 days of stats.

Goal (warmup issue): under 10 s, with a number of SQL queries that does not grow with the IPs.
It runs the ramp for 500 and for 5,000 IPs and prints seconds and queries for both, so the ratio
(queries at 5,000 / queries at 500) shows the query count is constant.

Uses a scratch database (`ee_bench_warmup`, dropped and recreated) on the server of DATABASE_URL, or the
embedded Postgres when DATABASE_URL is unset:

    .venv/bin/python bench/warmup_ramp.py [--ips 5000]
"""

import argparse
import base64
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def _scratch_url() -> str:
    from embedded_db import ensure_database_url

    url = ensure_database_url()
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/ee_bench_warmup"))


def _recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS ee_bench_warmup")
        conn.execute("CREATE DATABASE ee_bench_warmup")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ips", type=int, default=5000)
    args = parser.parse_args()
    url = _scratch_url()
    _recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
    # DEBUG is off here as in production, so secrets at rest need a key: a throwaway one per run.
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    small = _run(max(50, args.ips // 10), seed=1)
    big = _run(args.ips, seed=2)
    print(f"ramp over {small[0]:>5} IPs: {small[1]:6.2f} s, {small[2]} queries")
    print(f"ramp over {big[0]:>5} IPs: {big[1]:6.2f} s, {big[2]} queries  (goal: < 10 s)")
    print(f"query ratio {big[0]} IPs / {small[0]} IPs = {big[2] / small[2]:.2f} (goal: 1.00, i.e. constant)")


def _run(n: int, seed: int) -> tuple[int, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import DailyStat
    from core.models import AuditEvent
    from ips.models import IPAddress, IPPool, IPStatus, MtaServer
    from tenants.models import Tenant
    from warmup.models import IPWarmup, WarmupDecision, WarmupPlan
    from warmup.services import warmup_run_ramp

    for model in (WarmupDecision, IPWarmup, DailyStat, AuditEvent, IPAddress, IPPool, MtaServer, Tenant):
        model.objects.all().delete()
    rng = random.Random(seed)
    tenant = Tenant.objects.create(name=f"Bench {seed}", slug=f"bench-{seed}")
    server = MtaServer(name=f"bench-{seed}")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    pool = IPPool.objects.create(name="bench", server=server, tenant=tenant)
    plan = WarmupPlan.objects.get(preset_key="sparkpost")
    ips = IPAddress.objects.bulk_create(
        IPAddress(
            address=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
            server=server,
            pool=pool,
            status=IPStatus.WARMING,
            vmta_name=f"v{i}",
            daily_limit=200,
            hourly_limit=20,
        )
        for i in range(1, n + 1)
    )
    today = date(2026, 11, 20)
    IPWarmup.objects.bulk_create(
        IPWarmup(ip=ip, plan=plan, step=rng.randint(1, 10), started_on=today - timedelta(days=30))
        for ip in ips
    )
    stats = []
    for ip in ips:
        for back in range(1, 31):
            delivered = rng.randint(0, 60_000)
            stats.append(
                DailyStat(
                    day=today - timedelta(days=back),
                    source_ip=ip.address,
                    rcpt_domain="gmail.com",
                    delivered=delivered,
                    hard_bounces=rng.randint(0, delivered // 40 + 1),
                    soft_bounces=rng.randint(0, 20),
                    transient=rng.randint(0, delivered // 10 + 1),
                    complaints=rng.randint(0, 3),
                )
            )
    DailyStat.objects.bulk_create(stats, batch_size=5000)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        outcomes = warmup_run_ramp(day=today)
        elapsed = time.perf_counter() - started
    assert len(outcomes) == n, (len(outcomes), n)
    return n, elapsed, len(ctx.captured_queries)


if __name__ == "__main__":
    main()
