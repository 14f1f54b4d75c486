"""Benchmark: the accounting import against a bare csv.reader pass, plus the webhook (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ee_bench .venv/bin/python bench/accounting_import.py \
        [--records 1000000] [--batches 100] [--clients 4] [--workers 4] [--keep-file PATH] \
        [--bad-share 0.01] [--only-webhook]

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
   every record accounted for: each broken one rejected at its own item number in its body's reply
   and kept in ImportRejection (one each), every other one stored. The three generated files number
   their records apart and every record is unique, so a duplicate is a problem too, never a count.

``--only-webhook`` skips step 2 (the webhook runs beside an empty event table).

Runs in a throw-away database (``test_<name of DATABASE_URL's database>``, created, migrated and
dropped like Django's test runner does), so it never touches real data.
"""

from __future__ import annotations

import argparse
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
from collections import Counter
from pathlib import Path

from _common import ROOT, bench_sending_ips, settle, setup_django, stopwatch, throwaway_database

setup_django()

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
    from ips.services import server_create
    from tenants.models import Tenant

    server, token = server_create(name="bench-mta", by="system: bench")
    tenants = [Tenant.objects.create(name=slug, slug=slug) for slug in ("bench-a", "bench-b")]
    bench_sending_ips(server, tenants)
    return token


def import_file(path: Path) -> tuple[dict, float]:
    from campaigns.accounting.importer import accounting_import_path

    with stopwatch() as watch:
        result = accounting_import_path(path=path, final=True)
    return result.as_dict(), watch.seconds


def settle_database() -> None:
    """Let the million-row import settle before the webhook is timed: otherwise autovacuum's first
    pass over the new rows and the checkpoint that flushes them run during the webhook measurement."""
    from campaigns.models import DailyStat, DeliveryEvent

    settle(DeliveryEvent._meta.db_table, DailyStat._meta.db_table)


# Ways a record can be broken, each rejected alone (README "Bad records, attribution and limits").
_BREAKAGES = {
    "dlvSourceIp not an IP": lambda r: r.update(dlvSourceIp="not-an-ip"),
    "9 KB recipient": lambda r: r.update(rcpt="x" * 9000 + "@example.org"),
    "nested value": lambda r: r.update(dsnDiag=[["nested"]]),
    "bad time": lambda r: r.update(timeLogged="yesterday"),
    "unknown type": lambda r: r.update(type="zz"),
    "recipient not UTF-8": lambda r: r.update(rcpt="BAD-UTF8@example.org"),  # bytes replaced below
}


def json_batches(
    path: Path, n_batches: int, size: int = 1000, bad_share: float = 0.0
) -> tuple[list[bytes], list[dict[int, str]]]:
    """JSON bodies of ``size`` records; with ``bad_share``, that share of records broken (evenly spread,
    each way in turn). Returns the bodies and, for each body, its broken records: item number -> how."""
    bodies: list[bytes] = []
    broken: list[dict[int, str]] = []
    batch: list[dict] = []
    ways = list(_BREAKAGES.items())
    every = round(1 / bad_share) if bad_share else 0
    bad = n = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if not batch:
                broken.append({})
            record = {name: value for name, value in zip(HEADER, row, strict=True) if value}
            n += 1
            batch.append(record)
            if every and n % every == 0:
                name, breakage = ways[bad % len(ways)]
                breakage(record)
                broken[-1][len(batch)] = name
                bad += 1
            if len(batch) == size:
                bodies.append(json.dumps(batch).encode().replace(b"BAD-UTF8", b"b\xffd"))
                batch = []
                if len(bodies) == n_batches:
                    break
    return bodies, broken[: len(bodies)]


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


def webhook_bench(token: str, bodies: list[bytes], clients: int, workers: int) -> tuple[list[dict], float]:
    """Post every body; returns each body's reply (in body order; ``{"status": n, ...}`` for a non-200)
    and the seconds from the first post to the last reply."""
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
        pending = list(range(len(bodies)))
        replies: list[dict] = [{} for _ in bodies]
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    if not pending:
                        break
                    index = pending.pop()
                # A connection per post, as deploy/pmta/acct-webhook (urllib) makes them. Kept-alive
                # connections would stick to whichever gthread worker accepted them first, and one
                # worker's threads share one core.
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(
                    "POST",
                    "/hooks/pmta/accounting",
                    body=bodies[index],
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                reply = response.read()
                conn.close()
                replies[index] = (
                    json.loads(reply)
                    if response.status == 200
                    else {"status": response.status, "error": reply[:200].decode(errors="replace")}
                )

        with stopwatch() as watch:
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return replies, watch.seconds
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)


def account(replies: list[dict], broken: list[dict[int, str]], size: int) -> tuple[Counter, list[str]]:
    """Every record of every body accounted for: stored (accepted), or rejected at exactly the item
    numbers that were broken. Every record is new and unique (bench/gen_accounting.py), so a duplicate
    is a problem too. Returns the totals and the problems found."""
    totals: Counter = Counter()
    problems: list[str] = []
    for index, (reply, bad) in enumerate(zip(replies, broken, strict=True)):
        if "accepted" not in reply:
            problems.append(f"body {index}: HTTP {reply.get('status')}: {reply.get('error')}")
            continue
        refused = reply["rejected"] + reply.get("held", 0)
        totals.update(accepted=reply["accepted"], duplicates=reply["duplicates"], refused=refused)
        if reply["accepted"] + reply["duplicates"] + refused != size:
            problems.append(f"body {index}: {reply} does not add up to {size} records")
        if reply["duplicates"]:
            problems.append(f"body {index}: {reply['duplicates']} duplicates among unique records")
        lines = {error["line"] for error in reply["errors"]}
        if not reply.get("errors_truncated") and lines != set(bad):
            problems.append(f"body {index}: rejected items {sorted(lines)}, broken items {sorted(bad)}")
        for line, how in bad.items():
            totals[f"rejected: {how}"] += line in lines
    return totals, problems


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
    parser.add_argument(
        "--only-webhook", action="store_true", help="skip the file import (the webhook runs alone)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="acct-bench-"))
    path = Path(args.keep_file) if args.keep_file else tmp / "acct-bench.csv"
    webhook_path = tmp / "acct-webhook.csv"
    bad_path = tmp / "acct-webhook-bad.csv"
    size = 1000
    try:
        records = 0 if args.only_webhook else args.records
        print(f"generating {records:,} + 2 x {args.batches * size:,} records ...", flush=True)
        # Three files, numbered apart: no record of the run is sent twice (bench/gen_accounting.py).
        hooked = args.batches * size
        generate(path, records, seed=1)
        generate(webhook_path, hooked, seed=2, first_serial=args.records)
        generate(bad_path, hooked, seed=3, first_serial=args.records + hooked)

        with throwaway_database():
            token = setup_inventory()
            if not args.only_webhook:
                file_import(path)
            bodies, broken = json_batches(webhook_path, args.batches, size)  # ~1 MB per body
            settle_database()
            replies, t_hook = webhook_bench(token, bodies, args.clients, args.workers)
            totals, problems = account(replies, broken, size)
            stored = totals["accepted"] + totals["duplicates"]
            print(
                f"webhook: {stored:,} records in {len(bodies)} JSON batches of {size:,}, "
                f"{args.clients} clients, {args.workers} gunicorn workers: "
                f"{stored / t_hook:,.0f} records/s ({t_hook:.2f} s) (goal >= 20,000)"
            )
            for problem in problems[:5]:
                print("  webhook problem:", problem)

            if args.bad_share:
                webhook_with_bad_records(args, token, bad_path, size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def file_import(path: Path) -> None:
    n_csv, t_csv = csv_pass(path)
    n_csv, t_csv2 = csv_pass(path)  # warm page cache for both passes
    t_csv = min(t_csv, t_csv2)
    n_parse, t_parse = parser_pass(path)
    rss_before = peak_rss_mb()
    summary, t_import = import_file(path)
    rss_after = peak_rss_mb()

    csv_rate = n_csv / t_csv
    import_rate = summary["read"] / t_import
    print(f"file: {path} ({path.stat().st_size / 1e6:,.0f} MB, {n_csv:,} records)")
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


def webhook_with_bad_records(args: argparse.Namespace, token: str, path: Path, size: int) -> None:
    from campaigns.models import ImportRejection

    bodies, broken = json_batches(path, args.batches, size, bad_share=args.bad_share)
    bad = sum(len(b) for b in broken)
    kept_before = ImportRejection.objects.count()
    settle_database()
    replies, t_hook = webhook_bench(token, bodies, args.clients, args.workers)
    kept = ImportRejection.objects.count() - kept_before
    totals, problems = account(replies, broken, size)
    total = totals["accepted"] + totals["duplicates"] + totals["refused"]
    if kept != bad:
        problems.append(f"{kept:,} rejections kept verbatim for {bad:,} broken records")
    print(
        f"webhook with {args.bad_share:.0%} bad records: {total:,} records in {len(bodies)} batches: "
        f"{total / t_hook:,.0f} records/s ({t_hook:.2f} s) (goal >= 20,000)"
    )
    print(
        f"  {bad:,} broken, {totals['refused']:,} rejected in the replies, {kept:,} kept verbatim, "
        f"{totals['accepted']:,} stored, {totals['duplicates']:,} duplicates: "
        f"{'every record accounted for' if not problems else 'MISMATCH'}"
    )
    for how in _BREAKAGES:
        print(f"    {how:<22} {totals[f'rejected: {how}']:,} rejected")
    for problem in problems[:5]:
        print("  webhook problem:", problem)


if __name__ == "__main__":
    main()
