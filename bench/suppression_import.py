"""Benchmark: a suppression CSV import as the background job runs it (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ee_bench .venv/bin/python bench/suppression_import.py \\
        [--rows 1000000] [--bad-share 0.001]

Writes an N-line CSV (``email,note`` header, a share of invalid addresses and some repeats), stores it
as a SuppressionImport like the upload page does, and times ``suppression_import_run`` (what the Celery
worker runs) into a tenant that already has 10% of the addresses. Prints lines/s, the total time (goal:
1M lines in under 60 s) and checks that every line is accounted for (added + already + repeated +
invalid = lines). Runs in a throw-away database (``test_<name>``), created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402


def make_csv(rows: int, bad_share: float) -> tuple[bytes, int]:
    rng = random.Random(7)
    lines = ["email,note"]
    bad = 0
    for i in range(rows):
        if bad_share and rng.random() < bad_share:
            lines.append(f"not an address {i},x")
            bad += 1
        elif i % 100 == 99:
            lines.append(f"User{i - 50}@Example.com,repeat")  # the same address again, other case
        else:
            lines.append(f"user{i}@example{i % 50}.com,unsubscribed 2025-07-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode(), bad


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-share", type=float, default=0.001)
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    try:
        data, bad = make_csv(args.rows, args.bad_share)
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        from campaigns.models import Suppression
        from campaigns.services.suppression_import import suppression_import_create, suppression_import_run
        from tenants.models import Tenant

        tenant = Tenant.objects.create(name="bench", slug="bench")
        Suppression.objects.bulk_create(
            [
                Suppression(
                    tenant=tenant, email=f"user{i}@example{i % 50}.com", reason="manual", created_by="b"
                )
                for i in range(0, args.rows, 10)
            ],
            batch_size=10_000,
        )
        job = suppression_import_create(tenant=tenant, data=data, by="system: bench", filename="bench.csv")
        started = time.perf_counter()
        done = suppression_import_run(job_id=job.pk)
        elapsed = time.perf_counter() - started
        assert done is not None
        accounted = done.added + done.already + done.duplicates + done.errors_total
        print(f"file: {len(data) / 1e6:,.1f} MB, {done.lines:,} data lines ({bad:,} invalid on purpose)")
        print(
            f"suppression import job: {done.lines / elapsed:,.0f} lines/s, {elapsed:.1f} s "
            f"(goal: {args.rows:,} lines in under 60 s)"
        )
        print(
            f"added {done.added:,}, already {done.already:,}, repeated {done.duplicates:,}, "
            f"invalid {done.errors_total:,}: "
            f"{'every line accounted for' if accounted == done.lines else 'MISMATCH'}"
        )
    finally:
        if connection.settings_dict["NAME"] != old_name:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
