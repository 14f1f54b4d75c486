"""Benchmark: validate 100,000 addresses over 5,000 domains against a local DNS server.

Goal (list hygiene issue): a result within seconds per 10k addresses, and DNS queries that follow the
distinct domains, not the addresses. The domains are a mix of MX, A-only, NXDOMAIN and null-MX; the
addresses include role accounts, disposable domains, duplicates and bad syntax. The job service runs
directly (no Celery) against a scratch database (`ee_bench_validation`, dropped and recreated) on the
server of DATABASE_URL, or the embedded Postgres when DATABASE_URL is unset:

    .venv/bin/python bench/validation.py [--addresses 100000] [--domains 5000]

It prints addresses/s, the DNS queries the server received and the number the domain mix requires
(MX for every domain, plus A for A-only ones; nothing else), which must be equal.
"""

import argparse
import base64
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

DB = "ee_bench_validation"
KINDS = ("mx", "mx", "mx", "mx", "mx", "mx", "a_only", "nxdomain", "null_mx")  # weights by repetition
QUERIES_PER_KIND = {"mx": 1, "a_only": 2, "nxdomain": 1, "null_mx": 1}


def _scratch_url() -> str:
    from embedded_db import ensure_database_url

    parts = urlsplit(ensure_database_url())
    return urlunsplit(parts._replace(path=f"/{DB}"))


def _recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")


def _zone(server, n_domains: int, rng: random.Random) -> dict[str, str]:
    kinds = {}
    for i in range(n_domains):
        domain = f"d{i}.bench-{i % 97}.example"
        kind = rng.choice(KINDS)
        kinds[domain] = kind
        if kind == "mx":
            server.add(domain, "MX", f"10 mx.{domain}.")
        elif kind == "a_only":
            server.add(domain, "A", f"192.0.2.{i % 250 + 1}")
        elif kind == "null_mx":
            server.add(domain, "MX", "0 .")
        # nxdomain: not in the zone at all
    return kinds


def _addresses(n: int, domains: list[str], rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.01:
            out.append(f"broken {i}@@nowhere")
        elif roll < 0.03 and out:
            out.append(out[rng.randrange(len(out))].upper())  # a duplicate, differently cased
        elif roll < 0.05:
            out.append(f"info{'' if i % 2 else '+x'}@{rng.choice(domains)}")
        else:
            out.append(f"user.{i}@{rng.choice(domains)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--domains", type=int, default=5_000)
    args = parser.parse_args()
    url = _scratch_url()
    _recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
    # DEBUG is off here as in production, so secrets at rest need a key: a throwaway one per run.
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from hygiene.models import ValidationChunk
    from hygiene.services import upload_parse, validation_job_create, validation_job_run
    from tenants.models import Tenant
    from testsupport.dnsserver import LocalDNSServer

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    with LocalDNSServer() as server:
        kinds = _zone(server, args.domains, rng)
        # A handful of disposable domains (from the shipped list) so that rule is exercised too.
        for disposable in ("mailinator.com", "yopmail.com", "guerrillamail.com"):
            server.add(disposable, "MX", f"10 mx.{disposable}.")
            kinds[disposable] = "mx"
        settings.DNS_NAMESERVERS = [server.nameserver]
        settings.DNS_TIMEOUT = 2.0
        addresses = _addresses(args.addresses, list(kinds), rng)
        data = ("email,name\n" + "".join(f"{a},Person {i}\n" for i, a in enumerate(addresses))).encode()

        tenant = Tenant.objects.create(name="Bench", slug="bench")
        started = time.perf_counter()
        upload = upload_parse(data=data, filename="bench.csv")
        job = validation_job_create(tenant=tenant, upload=upload, by="system: bench")
        parsed = time.perf_counter()
        server.reset_count()
        job = validation_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - parsed
        received = server.query_count

    assert job is not None and job.status == "done", job and (job.status, job.error)
    used = {a.rsplit("@", 1)[1].lower() for a in addresses if a.count("@") == 1}
    used &= set(kinds)
    expected = sum(QUERIES_PER_KIND[kinds[d]] for d in used)
    size = f"{len(data) / 1e6:.1f} MB"
    print(f"addresses:           {job.total:,} over {len(used):,} distinct domains ({size})")
    print(f"upload parse+store:  {parsed - started:6.2f} s")
    print(f"validation run:      {elapsed:6.2f} s  = {job.total / elapsed:,.0f} addresses/s")
    print(f"per 10k addresses:   {elapsed / job.total * 10_000:6.2f} s  (goal: seconds)")
    counted = job.counts["dns"]["queries"]
    print(f"DNS queries:         {received:,} received by the server, {counted:,} counted by the job")
    print(f"expected queries:    {expected:,} (1 MX per domain + 1 A per A-only domain)")
    print(f"queries == expected: {received == expected}  (not one per address: {job.total:,})")
    print(f"chunks:              {ValidationChunk.objects.filter(job=job).count()}")
    print(f"status counts:       {job.counts['status']}")
    print(f"reason counts:       { {k: v for k, v in job.counts['reason'].items() if v} }")


if __name__ == "__main__":
    main()
