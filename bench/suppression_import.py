"""Benchmark: a suppression CSV import as the background job runs it (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ee_bench .venv/bin/python bench/suppression_import.py \\
        [--rows 1000000] [--bad-share 0.001]

Writes an N-line CSV (``email,note`` header; every ``1 / --bad-share``-th line not an address, and one
line in a hundred an earlier address again in other case), stores it as a SuppressionImport like the
upload page does, and times ``suppression_import_run`` (what the Celery worker runs) into a tenant that
already has every tenth address. Prints lines/s, the total time (goal: 1M lines in under 60 s) and
checks every count against what the file holds (added, already, repeated, invalid, each exactly).
Runs in a throw-away database (``test_<name>``), created, migrated and dropped.
"""

from __future__ import annotations

import argparse

from _common import setup_django, stopwatch, throwaway_database, verdict

setup_django()


def address(i: int) -> str:
    return f"user{i}@example{i % 50}.com"


def already_listed(rows: int) -> range:
    """The lines whose address the tenant has suppressed before the import: every tenth."""
    return range(0, rows, 10)


def make_csv(rows: int, bad_share: float) -> tuple[bytes, dict[str, int]]:
    """The CSV, and what the job must count: added, already, repeated (``duplicates``) and invalid.

    Line i holds address(i), except every ``1 / bad_share``-th line (not an address) and each line
    ending in 99, which repeats line i - 50 in other case (a good line that is not already listed:
    i - 50 ends in 49).
    """
    every = round(1 / bad_share) if bad_share else 0

    def invalid(i: int) -> bool:
        return bool(every) and i % every == every // 2

    lines = ["email,note"]
    expected = dict.fromkeys(("added", "already", "duplicates", "errors_total"), 0)
    for i in range(rows):
        if invalid(i):
            lines.append(f"not an address {i},x")
            expected["errors_total"] += 1
        elif i % 100 == 99 and not invalid(i - 50):
            lines.append(f"{address(i - 50).capitalize().replace('@e', '@E')},repeat")
            expected["duplicates"] += 1
        else:
            lines.append(f"{address(i)},unsubscribed 2025-07-{1 + i % 28:02d}")
            expected["already" if i % 10 == 0 else "added"] += 1
    return ("\n".join(lines) + "\n").encode(), expected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad-share", type=float, default=0.001)
    args = parser.parse_args()

    data, expected = make_csv(args.rows, args.bad_share)
    with throwaway_database():
        from campaigns.models import Suppression
        from campaigns.services.suppression_import import suppression_import_create, suppression_import_run
        from tenants.models import Tenant

        tenant = Tenant.objects.create(name="bench", slug="bench")
        Suppression.objects.bulk_create(
            [
                Suppression(tenant=tenant, email=address(i), reason="manual", created_by="b")
                for i in already_listed(args.rows)
            ],
            batch_size=10_000,
        )
        job = suppression_import_create(tenant=tenant, data=data, by="system: bench", filename="bench.csv")
        with stopwatch() as watch:
            done = suppression_import_run(job_id=job.pk)
        assert done is not None
        counted = {name: getattr(done, name) for name in expected}
        print(
            f"file: {len(data) / 1e6:,.1f} MB, {done.lines:,} data lines"
            f" ({expected['errors_total']:,} invalid on purpose)"
        )
        print(
            f"suppression import job: {watch.rate(done.lines):,.0f} lines/s, {watch.seconds:.1f} s "
            f"(goal: 1,000,000 lines in under 60 s)"
            + (f" {verdict(watch.seconds < 60)}" if args.rows >= 1_000_000 else "")
        )
        print(
            f"added {done.added:,}, already {done.already:,}, repeated {done.duplicates:,}, "
            f"invalid {done.errors_total:,}: "
            + (
                "every line accounted for"
                if counted == expected and sum(counted.values()) == done.lines
                else f"MISMATCH, expected {expected}"
            )
        )


if __name__ == "__main__":
    main()
