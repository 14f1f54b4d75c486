"""Benchmark: the accounting import against a bare csv.reader pass, plus the webhook (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ee_bench .venv/bin/python bench/accounting_import.py \
        [--records 1000000] [--batches 100] [--clients 4] [--workers 4] [--keep-file PATH]

1. Writes an N-record file with PMTA 5.x's default header (bench/gen_accounting.py).
2. Times a bare ``csv.reader`` pass over it (the reference), then the parser alone (the ceiling for
   any importer built on it), then ``accounting_import_path``, the command's code path, into Postgres.
   Prints records/s, the ratio to csv.reader (goal >= 0.5) and the process's peak RSS (goal < 300 MB,
   not growing with N). Seven of the eight sending IPs are registered in two tenants' pools, so the
   tenant / campaign / suppression work is real.
3. Starts gunicorn on 127.0.0.1 with deploy/gunicorn.conf.py (``--preload``, so timing starts with
   every worker ready) and posts
   ``--batches`` JSON bodies of 1,000 records each to /hooks/pmta/accounting from ``--clients`` threads;
   prints records/s (goal >= 20,000). Before that the database is vacuumed and checkpointed, so the
   import's aftermath is not timed as webhook work.
4. Posts as many fresh bodies again with ``--bad-share`` (1%) of their records broken in the ways a
   PMTA host's bytes can be (a dlvSourceIp that is no IP, a 9 KB recipient, a nested JSON value, a bad
   time, an unknown type, bytes that are not UTF-8 in the recipient): still >= 20,000 records/s, and
   every bad record accounted for (rejected in the replies and kept in ImportRejection, one each).

Runs in a throw-away database (``test_<name of DATABASE_URL's database>``, created, migrated and
dropped like Django's test runner does), so it never touches real data.
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
# DEBUG is off here as in production, so secrets at rest need a key: a throwaway one per run.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from gen_accounting import HEADER, generate  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def csv_pass(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for _row in csv.reader(handle):
            n += 1
    return n - 1, time.perf_counter() - started


def parser_pass(path: Path) -> tuple[int, float]:
    from campaigns.accounting.parser import iter_rows, open_accounting

    started = time.perf_counter()
    n = 0
    with open_accounting(path) as stream:
        for _res in iter_rows(stream, final=True):
            n += 1
    return n, time.perf_counter() - started


def setup_inventory() -> str:
    """Tenants, pools and IPs like a real install; returns a webhook token for the bench server."""
    from ips.models import IPAddress, IPPool
    from ips.services import server_create
    from tenants.models import Tenant

    server, token = server_create(name="bench-mta", by="system: bench")
    pools = []
    for slug in ("bench-a", "bench-b"):
        tenant = Tenant.objects.create(name=slug, slug=slug)
        pools.append(IPPool.objects.create(name=f"pool-{slug}", server=server, tenant=tenant))
    # 203.0.113.21 stays unknown on purpose: its records keep tenant NULL.
    for i, last in enumerate((10, 11, 12, 13, 14, 15, 20)):
        IPAddress.objects.create(
            address=f"203.0.113.{last}", server=server, vmta_name=f"vmta-{last}", pool=pools[i // 4]
        )
    return token


def import_file(path: Path) -> tuple[dict, float]:
    from campaigns.accounting.importer import accounting_import_path

    started = time.perf_counter()
    result = accounting_import_path(path=path, final=True)
    return result.as_dict(), time.perf_counter() - started


def settle_database() -> None:
    """Let the million-row import settle before the webhook is timed: otherwise autovacuum's first
    pass over the new rows and the checkpoint that flushes them run during the webhook measurement."""
    from campaigns.models import DailyStat, DeliveryEvent

    with connection.cursor() as cursor:
        for model in (DeliveryEvent, DailyStat):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        cursor.execute("CHECKPOINT")


# Ways a record can be broken, each rejected alone (README "Bad records, attribution and limits").
_BREAKAGES = (
    lambda r: r.update(dlvSourceIp="not-an-ip"),
    lambda r: r.update(rcpt="x" * 9000 + "@example.org"),
    lambda r: r.update(dsnDiag=[["nested"]]),
    lambda r: r.update(timeLogged="yesterday"),
    lambda r: r.update(type="zz"),
    lambda r: r.update(rcpt="BAD-UTF8@example.org"),  # becomes bytes that are not UTF-8 below
)


def json_batches(
    path: Path, n_batches: int, size: int = 1000, bad_share: float = 0.0
) -> tuple[list[bytes], int]:
    """JSON bodies of ``size`` records; with ``bad_share``, that share of records broken (evenly spread).
    Returns the bodies and how many records were broken."""
    bodies, batch = [], []
    every = round(1 / bad_share) if bad_share else 0
    bad = n = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            record = {name: value for name, value in zip(HEADER, row, strict=True) if value}
            n += 1
            if every and n % every == 0:
                _BREAKAGES[bad % len(_BREAKAGES)](record)
                bad += 1
            batch.append(record)
            if len(batch) == size:
                bodies.append(json.dumps(batch).encode().replace(b"BAD-UTF8", b"b\xffd"))
                batch = []
                if len(bodies) == n_batches:
                    break
    return bodies, bad


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def wait_until_serving(port: int, timeout: float = 60.0) -> None:
    """Until /healthz answers: the port opens before the preloaded app has forked its workers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                time.sleep(0.5)  # the other workers fork in the same moment; let them finish starting
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving")


def webhook_bench(
    token: str, bodies: list[bytes], clients: int, workers: int
) -> tuple[int, int, float, list[str]]:
    """(records stored or already stored, records rejected or held, seconds, problems)."""
    port = free_port()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", CONN_MAX_AGE="60")
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "emailengine.wsgi",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),  # production's worker class and gc.freeze
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            # Workers fork from a master that has already loaded Django, so every worker is ready when
            # the port opens. Without it, four workers booting (about 1.5 CPU-s each) share the two
            # cores with the first seconds of the run: that measures start-up, not the webhook.
            "--preload",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # the access log
    )
    try:
        wait_for_port(port)
        wait_until_serving(port)
        pending = list(bodies)
        lock = threading.Lock()
        accepted = refused = 0
        problems: list[str] = []

        def client() -> None:
            nonlocal accepted, refused
            while True:
                with lock:
                    if not pending:
                        break
                    body = pending.pop()
                # A connection per post, as deploy/pmta/acct-webhook (urllib) makes them. Kept-alive
                # connections would stick to whichever gthread worker accepted them first, and one
                # worker's threads share one core.
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    "/hooks/pmta/accounting",
                    body=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                reply = response.read()
                with lock:
                    if response.status != 200:
                        problems.append(f"HTTP {response.status}: {reply[:200]!r}")
                    else:
                        data = json.loads(reply)
                        accepted += data["accepted"] + data["duplicates"]
                        refused += data["rejected"] + data.get("held", 0)
                conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return accepted, refused, time.perf_counter() - started, problems
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=100, help="webhook bodies of 1,000 records")
    parser.add_argument("--clients", type=int, default=4, help="concurrent webhook clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--keep-file", help="write the generated file here and keep it")
    parser.add_argument(
        "--bad-share", type=float, default=0.01, help="broken records in the second webhook run"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="acct-bench-"))
    path = Path(args.keep_file) if args.keep_file else tmp / "acct-bench.csv"
    webhook_path = tmp / "acct-webhook.csv"
    old_name = connection.settings_dict["NAME"]
    try:
        print(f"generating {args.records:,} records ...", flush=True)
        generate(path, args.records, seed=1)
        generate(webhook_path, args.batches * 1000, seed=2)
        bad_path = tmp / "acct-webhook-bad.csv"
        generate(bad_path, args.batches * 1000, seed=3)
        size_mb = path.stat().st_size / 1e6

        n_csv, t_csv = csv_pass(path)
        n_csv, t_csv2 = csv_pass(path)  # warm page cache for both passes
        t_csv = min(t_csv, t_csv2)
        n_parse, t_parse = parser_pass(path)
        rss_before = peak_rss_mb()

        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        token = setup_inventory()
        summary, t_import = import_file(path)
        rss_after = peak_rss_mb()

        csv_rate = n_csv / t_csv
        import_rate = summary["read"] / t_import
        print(f"file: {path} ({size_mb:,.0f} MB, {n_csv:,} records)")
        print(f"csv.reader pass:   {csv_rate:12,.0f} records/s ({t_csv:.2f} s)")
        print(
            f"parser only:       {n_parse / t_parse:12,.0f} records/s ({t_parse:.2f} s) = "
            f"{n_parse / t_parse / csv_rate:.2f} x csv.reader"
        )
        print(
            f"import (Postgres): {import_rate:12,.0f} records/s ({t_import:.2f} s) = "
            f"{import_rate / csv_rate:.2f} x csv.reader (goal >= 0.5)"
        )
        print(
            f"import summary: read {summary['read']:,}, imported {summary['imported']:,}, "
            f"duplicates {summary['duplicates']:,}, rejected {summary['rejected']:,}, "
            f"by type {summary['by_type']}"
        )
        print(f"peak RSS: {rss_before:,.0f} MB before import, {rss_after:,.0f} MB after (goal < 300 MB)")

        bodies, _ = json_batches(webhook_path, args.batches)  # after the RSS reading: ~1 MB per body
        settle_database()
        accepted, _refused, t_hook, problems = webhook_bench(token, bodies, args.clients, args.workers)
        print(
            f"webhook: {accepted:,} records in {len(bodies)} JSON batches of 1,000, "
            f"{args.clients} clients, {args.workers} gunicorn workers: "
            f"{accepted / t_hook:,.0f} records/s ({t_hook:.2f} s) (goal >= 20,000)"
        )
        for problem in problems[:5]:
            print("  webhook problem:", problem)

        if args.bad_share:
            from campaigns.models import ImportRejection

            bodies, bad = json_batches(bad_path, args.batches, bad_share=args.bad_share)
            kept_before = ImportRejection.objects.count()
            settle_database()
            accepted, refused, t_hook, problems = webhook_bench(token, bodies, args.clients, args.workers)
            kept = ImportRejection.objects.count() - kept_before
            total = accepted + refused
            print(
                f"webhook with {args.bad_share:.0%} bad records: {total:,} records in {len(bodies)} batches: "
                f"{total / t_hook:,.0f} records/s ({t_hook:.2f} s) (goal >= 20,000); "
                f"{bad:,} broken, {refused:,} rejected in the replies, {kept:,} kept verbatim: "
                f"{'every bad record accounted for' if bad == refused == kept else 'MISMATCH'}"
            )
            for problem in problems[:5]:
                print("  webhook problem:", problem)
    finally:
        if connection.settings_dict["NAME"] != old_name:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
