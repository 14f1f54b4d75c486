"""Benchmark: the event store at ESP scale (issue 20). Not a test.

    .venv/bin/python bench/event_store.py [--events 20000000] [--days 30] [--tenants 100] \
        [--records 300000] [--repeat 20] [--keep] [--pages-only | --import-again]

In a scratch database (``ee_bench_events`` on DATABASE_URL's server, dropped and recreated):

1. Inventory like a fleet's (emailengine.scale: ``--tenants`` tenants with pools, IPs, campaigns and
   daily stats for ``--days`` days), the day partitions of those days, and the eight sending IPs of
   bench/gen_accounting.py in two tenants' pools, and a reply rule.
2. ``--records`` PMTA records of the last hours (bench/gen_accounting.py) imported into the empty event
   table (``accounting_import_path``, the command's path), then the reply-rule tasks its batches enqueued
   (run here as the warmup worker would, timed apart); then everything that import wrote is removed.
3. ``--events`` events over the ``--days`` days up to now for every tenant, generated with ``COPY`` (a
   day at a time), then VACUUM ANALYZE.
4. The same ``--records`` imported again, now beside the ``--events``: records/s and the ratio to step 2
   (goal >= 0.8).
5. The database's floor: the same rows, as the import stored them, ``COPY``ed into a copy of the event
   table (same partitions, same indexes), empty, and again holding the events those days' partitions
   held before the import (indexes as large as the ones the import wrote into); the import's rate over
   each (goal >= 0.6).
6. Pages through Django's test client, as an operator and as a tenant admin, each over ``--repeat``
   different values: message search by address, recipient domain, campaign and sending IP; the bounce
   explorer for one day, and for one day and one category; the home page. p50/p95 (goal p95 < 100 ms).
7. A day's prune: the oldest day's partition dropped (goal < 1 s).

Prints every figure, and a line per goal with its verdict. On a database kept by ``--keep``:
``--pages-only`` measures the pages again, ``--import-again`` imports ``--records`` new records beside
its events and compares them with both floors (steps 4 and 5 without the rest).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import (
    bench_sending_ips,
    drop_database,
    percentile,
    recreate_database,
    scratch_url,
    settle,
    setup_django,
    sql,
    verdict,
)

DB_NAME = "ee_bench_events"
PAGE_GOAL_MS = 100.0
IMPORT_RATIO_GOAL = 0.8
FLOOR_RATIO_GOAL = 0.6
PRUNE_GOAL_S = 1.0

# Recipient domains, repeated by weight: address n lives at DOMAINS[n % len(DOMAINS)].
DOMAINS = (
    ["gmail.com"] * 12
    + ["yahoo.com"] * 4
    + ["outlook.com"] * 3
    + ["hotmail.com"] * 2
    + ["icloud.com", "aol.com", "gmx.de", "web.de", "orange.fr", "comcast.net"]
    + [f"corp{n}.example" for n in range(40)]
)
ADDRESSES = 4_000_000
TAILS = 1_000_000
# (type, outcome, bounce category, dsn status, diagnostic with {n} for a varying part, weight per 1000)
KINDS = [
    ("d", "delivered", "", "2.0.0 (success)", "smtp;250 2.0.0 OK {n} - gsmtp", 850),
    (
        "b",
        "hard_bounce",
        "bad-mailbox",
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 The email account that you tried to reach does not exist {n} - gsmtp",
        45,
    ),
    (
        "b",
        "soft_bounce",
        "quota-issues",
        "5.2.2 (mailbox full)",
        "smtp;552 5.2.2 mailbox full ({n} bytes)",
        20,
    ),
    (
        "b",
        "soft_bounce",
        "spam-related",
        "5.7.1 (delivery not authorized)",
        "smtp;550 5.7.1 [{n}] Message rejected due to local policy",
        15,
    ),
    ("b", "hard_bounce", "bad-domain", "5.1.2 (bad destination system)", "No such domain {n}", 10),
    (
        "t",
        "transient",
        "policy-related",
        "4.7.0 (delivery not authorized)",
        "smtp;421 4.7.0 [TSS04] Messages from {n} temporarily deferred",
        40,
    ),
    (
        "t",
        "transient",
        "no-answer-from-host",
        "4.4.1 (no answer from host)",
        "No answer from host, connection timed out {n}",
        18,
    ),
    ("f", "complaint", "", "", "", 2),
]
COPY_COLUMNS = (
    "time_logged, type, outcome, rcpt, rcpt_domain, orig, source_ip, vmta, dsn_status, dsn_diag, bounce_cat,"
    " feedback_type, campaign_key, campaign_id, tenant_id, server_id, ip_id, message_id, job_id, fingerprint"
)


def address(n: int) -> str:
    return f"u{n}@{DOMAINS[n % len(DOMAINS)]}"


# --- 1. inventory ----------------------------------------------------------------------------------------


def setup(args: argparse.Namespace, today: date) -> dict:
    from campaigns.accounting.partitions import event_partitions_ensure
    from emailengine.scale import ScaleSize, scale_build
    from ips.models import MtaServer
    from tenants.models import Tenant
    from warmup.models import ReplyRule

    started = time.perf_counter()
    size = ScaleSize(
        tenants=args.tenants,
        ips=max(args.tenants * 10, 100),
        pools=max(args.tenants * 2, 2),
        servers=5,
        domains=args.tenants * 2,
        days=args.days,
        delivery_events=0,
        audit_events=1000,
    )
    scale_build(size, today=today)
    for back in range(args.days - 1, -1, -1):  # each day's partition, as the job made it on that day
        event_partitions_ensure(today=today - timedelta(days=back), ahead=0)
    event_partitions_ensure(today=today)
    server = MtaServer.objects.create(name="bench-acct")
    bench_sending_ips(server, list(Tenant.objects.order_by("slug")[:2]))
    if not ReplyRule.objects.filter(enabled=True).exists():
        ReplyRule.objects.create(
            name="gmail-rate", pattern=r"421[ -]4\.7\.28", provider="gmail", threshold=50, action="halve"
        )
    print(
        f"inventory: {size.tenants} tenants, {size.ips} IPs, {args.days} days of stats and partitions"
        f" ({time.perf_counter() - started:.1f} s)"
    )
    return {"server": server}


# --- 2 and 4. the import ---------------------------------------------------------------------------------


def import_file(path: Path) -> tuple[int, float, float, int]:
    """Import the file; then run the reply-rule tasks its batches enqueued, as the warmup worker would.

    Returns (records imported, import seconds, reply-rule seconds, reply-rule tasks).
    """
    from campaigns.accounting.importer import accounting_import_path
    from warmup import tasks

    enqueued: list[tuple] = []
    original = tasks.reply_rules_check.delay
    tasks.reply_rules_check.delay = lambda *a: enqueued.append(a)  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        result = accounting_import_path(path=path, final=True)
        elapsed = time.perf_counter() - started
    finally:
        tasks.reply_rules_check.delay = original  # type: ignore[method-assign]
    assert not result.failed_files, result.failed_files
    started = time.perf_counter()
    for payload in enqueued:
        tasks.reply_rules_check(*payload)
    return result.imported, elapsed, time.perf_counter() - started, len(enqueued)


def forget_import(marks: dict[str, int]) -> None:
    """Remove what the import into the empty table wrote, so the second one starts from the same place."""
    from campaigns.accounting.importer import SYSTEM_ACTOR

    sql("TRUNCATE campaigns_deliveryevent")
    sql("DELETE FROM campaigns_dailystat WHERE id > %s", [marks["stat"]])
    sql("DELETE FROM campaigns_suppression WHERE created_by = %s", [SYSTEM_ACTOR])
    sql("DELETE FROM campaigns_campaign WHERE id > %s", [marks["campaign"]])
    sql("DELETE FROM campaigns_importrejection")
    sql("DELETE FROM campaigns_accountingfile")
    sql("DELETE FROM warmup_replyruleaction")


def marks() -> dict[str, int]:
    return {
        "stat": sql("SELECT coalesce(max(id), 0) FROM campaigns_dailystat")[0][0],
        "campaign": sql("SELECT coalesce(max(id), 0) FROM campaigns_campaign")[0][0],
    }


# --- 3. the generated events -----------------------------------------------------------------------------


def generate_events(args: argparse.Namespace, now: datetime) -> float:
    """``--events`` events over ``--days`` days up to ``now``, a day at a time; returns seconds.

    Each day is COPYed into a table of its own, which then replaces that day's empty partition:
    attaching builds its indexes in one sorted pass, several times faster than COPY through them.
    """
    from django.db import connection, transaction

    from campaigns.accounting.partitions import day_bounds, partition_name
    from campaigns.models import Campaign
    from ips.models import IPAddress

    rng = random.Random(20)
    senders = list(
        IPAddress.objects.filter(pool__tenant__isnull=False, address__startswith="10.").values_list(
            "address", "vmta_name", "pool__tenant_id", "server_id", "id"
        )
    )
    campaigns: dict[int, list[tuple[str, int]]] = {}
    for pk, tenant_id, key in Campaign.objects.values_list("pk", "tenant_id", "key"):
        campaigns.setdefault(tenant_id, []).append((key, pk))
    kinds = [k[:5] for k in KINDS for _ in range(k[5])]

    # A million message "tails" (recipient, sender IP, tenant, campaign, outcome and texts), each given a
    # time and a fingerprint ~20 times over the days: a recipient mailed most days, at the cost of
    # formatting each tail once instead of for every event.
    def tail() -> str:
        ip, vmta, tenant_id, server_id, ip_id = senders[rng.randrange(len(senders))]
        key, campaign_id = rng.choice(campaigns[tenant_id])
        n = rng.randrange(ADDRESSES)
        rcpt = address(n)
        type_, outcome, cat, status, diag = kinds[rng.randrange(1000)]
        return (
            f"{type_}\t{outcome}\t{rcpt}\t{rcpt.rpartition('@')[2]}\tnews@t{tenant_id}.example"
            f"\t{ip}\t{vmta}\t{status}\t{diag.format(n=n % 997)}\t{cat}\t{'abuse' if type_ == 'f' else ''}"
            f"\t{key}\t{campaign_id}\t{tenant_id}\t{server_id}\t{ip_id}\t\t"
        )

    tails = [tail() for _ in range(min(args.events, TAILS))]
    first_day = (now - timedelta(days=args.days - 1)).date()
    per_day = args.events // args.days
    serial = 0
    started = time.perf_counter()
    for d in range(args.days):
        day = first_day + timedelta(days=d)
        lo, hi = day_bounds(day)
        # The last day stops at ``now``: no event from the future.
        span = int(min(hi, now).timestamp() - lo.timestamp())
        n_day = per_day if d < args.days - 1 else args.events - per_day * (args.days - 1)
        seconds = [(lo + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S+00") for s in range(span)]
        name, load = partition_name(day), f"bench_load_{day:%Y%m%d}"
        pick, n_tails = rng.randrange, len(tails)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {load} (LIKE campaigns_deliveryevent INCLUDING DEFAULTS)")
            with cursor.cursor.copy(f"COPY {load} ({COPY_COLUMNS}) FROM STDIN") as copy:
                for block in range(0, n_day, 10_000):
                    count = min(10_000, n_day - block)
                    copy.write(
                        "".join(
                            f"{seconds[pick(span)]}\t{tails[pick(n_tails)]}\t{serial + i:032x}\n"
                            for i in range(1, count + 1)
                        )
                    )
                    serial += count
            cursor.execute(
                f"ALTER TABLE {load} ADD CONSTRAINT {load}_range"
                " CHECK (time_logged >= %s AND time_logged < %s)",
                [lo, hi],
            )
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"ALTER TABLE {load} RENAME TO {name}")
            cursor.execute(
                f"ALTER TABLE campaigns_deliveryevent ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                [lo, hi],
            )
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {load}_range")
        elapsed = time.perf_counter() - started
        print(
            f"  {day}: {n_day:,} events; {serial:,} in {elapsed:.0f} s ({serial / elapsed:,.0f}/s)",
            flush=True,
        )
    return time.perf_counter() - started


# --- 5. the floor ----------------------------------------------------------------------------------------


def copy_floor(imported_ids: tuple[int, int], *, with_days_events: bool = False) -> tuple[int, float]:
    """COPY the rows the import stored into a copy of the event table (same columns, indexes and day
    partitions); (rows, seconds).

    Empty, or ``with_days_events``: holding the events those days' partitions held before the import
    (their indexes as large as the real ones, which is where the import wrote). Settled (VACUUM ANALYZE,
    CHECKPOINT) before the timed COPY, like the real table before the import.
    """
    from django.db import connection, transaction

    from campaigns.accounting.partitions import day_bounds

    lo, hi = imported_ids
    columns = COPY_COLUMNS + ", id"
    with connection.cursor() as cursor:
        buffer = bytearray()
        with cursor.cursor.copy(
            f"COPY (SELECT {columns} FROM campaigns_deliveryevent WHERE id BETWEEN {lo} AND {hi}) TO STDOUT"  # noqa: S608
        ) as copy:
            for block in copy:
                buffer += block
        days = [
            row[0]
            for row in sql(
                "SELECT DISTINCT (time_logged AT TIME ZONE 'UTC')::date FROM campaigns_deliveryevent"
                " WHERE id BETWEEN %s AND %s",
                [lo, hi],
            )
        ]
        cursor.execute("DROP TABLE IF EXISTS bench_event_copy")
        cursor.execute(
            "CREATE TABLE bench_event_copy (LIKE campaigns_deliveryevent INCLUDING DEFAULTS INCLUDING INDEXES"
            " INCLUDING CONSTRAINTS) PARTITION BY RANGE (time_logged)"
        )
        cursor.execute("CREATE TABLE bench_event_copy_default PARTITION OF bench_event_copy DEFAULT")
        for day in days:
            a, b = day_bounds(day)
            name = f"bench_event_copy_p{day:%Y%m%d}"
            if with_days_events:
                # Filled first, then attached: the indexes are built in one sorted pass, as generated.
                cursor.execute(f"CREATE TABLE {name} (LIKE campaigns_deliveryevent INCLUDING DEFAULTS)")
                cursor.execute(
                    f"INSERT INTO {name} SELECT * FROM campaigns_deliveryevent"  # noqa: S608
                    " WHERE time_logged >= %s AND time_logged < %s AND id NOT BETWEEN %s AND %s",
                    [a, b, lo, hi],
                )
                cursor.execute(
                    f"ALTER TABLE bench_event_copy ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                    [a, b],
                )
            else:
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF bench_event_copy FOR VALUES FROM (%s) TO (%s)", [a, b]
                )
    settle("bench_event_copy")
    before = sql("SELECT count(*) FROM bench_event_copy")[0][0]
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY bench_event_copy ({columns}) FROM STDIN") as copy,
    ):
        view = memoryview(buffer)
        for offset in range(0, len(view), 1 << 20):
            copy.write(view[offset : offset + (1 << 20)])
    elapsed = time.perf_counter() - started
    rows = sql("SELECT count(*) FROM bench_event_copy")[0][0] - before
    sql("DROP TABLE bench_event_copy")
    return rows, elapsed


def floors(imported_ids: tuple[int, int], rate: float) -> list[tuple[str, float]]:
    """Both floors for the import's rows, printed; returns (which, import rate / floor rate)."""
    ratios = []
    for with_days_events, which in ((False, "an empty copy"), (True, "a copy holding those days' events")):
        rows, seconds = copy_floor(imported_ids, with_days_events=with_days_events)
        print(
            f"plain COPY of the same {rows:,} rows into {which} of the table: {seconds:.1f} s"
            f" = {rows / seconds:,.0f}/s; the import is {rate / (rows / seconds):.2f}x of it"
        )
        ratios.append((which, rate / (rows / seconds)))
    return ratios


# --- 6. pages --------------------------------------------------------------------------------------------


def _cycle(values: list, n: int, rng: random.Random, template: str) -> list[str]:
    """n paths over the values: a random sample when there are enough, else each in turn."""
    chosen = rng.sample(values, n) if len(values) >= n else [values[i % len(values)] for i in range(n)]
    return [template.format(v) for v in chosen]


def measure_pages(args: argparse.Namespace, today: date) -> list[dict]:
    import gc

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from campaigns.models import Campaign
    from emailengine.scale import PREFIX
    from ips.models import IPAddress
    from tenants.models import Membership, Tenant

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(6)
    tenant = Tenant.objects.filter(slug__startswith=PREFIX).order_by("slug").first()
    operator, _ = get_user_model().objects.get_or_create(
        username=f"{PREFIX}bench-operator", defaults={"is_staff": True}
    )
    admin = Membership.objects.filter(tenant=tenant, role="admin").select_related("user").first().user
    n = args.repeat
    all_campaigns = list(Campaign.objects.values_list("pk", "tenant_id"))
    all_ips = list(
        IPAddress.objects.filter(address__startswith="10.").values_list("address", "pool__tenant_id")
    )
    days = [today - timedelta(days=rng.randrange(1, args.days)) for _ in range(n)]

    def addresses(tenant_id: int | None) -> list[str]:
        # Addresses that have events: the operator may get any; the tenant's own are found through its rows.
        if tenant_id is None:
            return [address(rng.randrange(ADDRESSES)) for _ in range(n)]
        rows = sql(
            "SELECT rcpt FROM campaigns_deliveryevent TABLESAMPLE SYSTEM (0.1) WHERE tenant_id = %s LIMIT %s",
            [tenant_id, n],
        )
        return [r[0] for r in rows] or [address(1)]

    cases = {
        "search by address": lambda t: [f"/messages/?q={a}" for a in addresses(t)],
        "search by domain": lambda t: [
            f"/messages/?q={DOMAINS[rng.randrange(len(DOMAINS))]}" for _ in range(n)
        ],
        "search by campaign": lambda t: _cycle(
            [pk for pk, owner in all_campaigns if t is None or owner == t], n, rng, "/messages/?campaign={}"
        ),
        "search by IP": lambda t: _cycle(
            [ip for ip, owner in all_ips if t is None or owner == t], n, rng, "/messages/?q={}"
        ),
        "bounce explorer, a day": lambda t: [f"/bounces/?start={d}&end={d}" for d in days],
        "bounce explorer, a day and category": lambda t: [
            f"/bounces/?start={d}&end={d}&category={category}"
            for d, category in zip(
                days, rng.choices(["bad-mailbox", "quota-issues", "spam-related"], k=n), strict=True
            )
        ],
        "home page": lambda t: ["/"] * n,
    }
    gc.collect()
    gc.freeze()
    results = []
    for name, paths_for in cases.items():
        for persona, user, tenant_id in (("operator", operator, None), ("tenant admin", admin, tenant.pk)):
            client = Client()
            client.force_login(user)
            paths = paths_for(tenant_id)
            client.get(paths[0])  # warm up
            times, db_times = [], []
            for path in paths:
                spent = [0.0]

                def timed(execute, sql, params, many, context, spent=spent):
                    began = time.perf_counter()
                    try:
                        return execute(sql, params, many, context)
                    finally:
                        spent[0] += time.perf_counter() - began

                started = time.perf_counter()
                with connection.execute_wrapper(timed):
                    response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                db_times.append(spent[0] * 1000)
                assert response.status_code == 200, (path, persona, response.status_code)
            results.append(
                {
                    "case": name,
                    "persona": persona,
                    "n": len(times),
                    "p50": statistics.median(times),
                    "p95": percentile(times, 95),
                    "db95": percentile(db_times, 95),
                }
            )
            r = results[-1]
            print(
                f"  {name:<36} {persona:<13} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
                f"  (SQL p95 {r['db95']:6.1f} ms, {len(times)} requests)"
            )
    return results


# --- 7. prune --------------------------------------------------------------------------------------------


def prune_a_day(first_day: date) -> tuple[int, float, list[str]]:
    """Retention as the daily job runs it, at the moment the oldest generated day falls out of it."""
    from campaigns.accounting.partitions import day_bounds, event_partitions_prune

    started = time.perf_counter()
    report = event_partitions_prune(days=0, now=day_bounds(first_day)[1])
    return report.pruned, time.perf_counter() - started, report.dropped


# --- main ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--records", type=int, default=300_000, help="records imported, twice")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page case and persona")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--database", default=DB_NAME, help="the scratch database's name")
    parser.add_argument(
        "--import-again",
        action="store_true",
        help="on a database kept by an earlier --keep run: import --records new records beside its events"
        " and compare with both plain-COPY floors",
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="on a database kept by an earlier --keep run: migrate it and measure the pages again",
    )
    args = parser.parse_args()

    url = scratch_url(args.database)
    if args.pages_only:
        _pages_again(args, url)
        return
    if args.import_again:
        _import_again(args, url)
        return
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from gen_accounting import MEAN_GAP_SECONDS, generate

    try:
        call_command("migrate", verbosity=0)
        now = datetime.now(UTC)
        today = now.date()
        setup(args, today)
        settle("campaigns_dailystat")

        workdir = Path(tempfile.mkdtemp(prefix="ee-bench-events-"))
        path = workdir / "acct.csv"
        # Records of the last hours, ending about now: today's import.
        generate(path, args.records, start=now - timedelta(seconds=args.records * MEAN_GAP_SECONDS + 60))
        before = marks()
        empty_n, empty_s, rules_s, rules_n = import_file(path)
        empty_rate = empty_n / empty_s
        print(f"import into the empty table: {empty_n:,} records in {empty_s:.1f} s = {empty_rate:,.0f}/s")
        print(
            f"  reply rules after it: {rules_n} batches in {rules_s:.2f} s"
            f" ({1000 * rules_s / max(rules_n, 1):.0f} ms a batch)"
        )
        forget_import(before)
        settle("campaigns_deliveryevent")

        gen_s = generate_events(args, now)
        print(f"generated {args.events:,} events with COPY in {gen_s:.0f} s ({args.events / gen_s:,.0f}/s)")
        started = time.perf_counter()
        settle("campaigns_deliveryevent")
        print(f"VACUUM ANALYZE: {time.perf_counter() - started:.0f} s")
        size = sql(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits"
            " WHERE inhparent = 'campaigns_deliveryevent'::regclass"
        )[0][0]
        print(f"event table with its indexes: {size}")

        path2 = workdir / "acct-again.csv"  # a new name, the same records: not a re-read of the first file
        path.rename(path2)
        id_before = sql("SELECT last_value FROM campaigns_deliveryevent_id_seq")[0][0]
        full_n, full_s, rules_s, rules_n = import_file(path2)
        full_rate = full_n / full_s
        id_after = sql("SELECT last_value FROM campaigns_deliveryevent_id_seq")[0][0]
        print(
            f"import beside {args.events:,} events: {full_n:,} records in {full_s:.1f} s = {full_rate:,.0f}/s"
        )

        ratios = floors((id_before + 1, id_after), full_rate)
        settle("campaigns_deliveryevent")

        print("pages:")
        pages = measure_pages(args, today)

        pruned, prune_s, dropped = prune_a_day(today - timedelta(days=args.days - 1))
        print(f"prune of a day: {pruned:,} events ({', '.join(dropped)}) in {prune_s:.2f} s")

        print("\ngoals:")
        ratio = full_rate / empty_rate
        print(
            f"  import beside {args.events:,} vs into empty: {ratio:.2f}x (goal >= {IMPORT_RATIO_GOAL})"
            f" {verdict(ratio >= IMPORT_RATIO_GOAL)}"
        )
        for which, floor in ratios:
            print(
                f"  import vs plain COPY into {which}: {floor:.2f}x (goal >= {FLOOR_RATIO_GOAL})"
                f" {verdict(floor >= FLOOR_RATIO_GOAL)}"
            )
        worst = max(pages, key=lambda r: r["p95"])
        slow = [r for r in pages if r["p95"] >= PAGE_GOAL_MS]
        print(
            f"  page p95: worst {worst['p95']:.1f} ms ({worst['case']}, {worst['persona']})"
            f" (goal < {PAGE_GOAL_MS:.0f})"
            f" {'OK' if not slow else 'MISSED: ' + '; '.join(r['case'] + ' / ' + r['persona'] for r in slow)}"
        )
        print(
            f"  prune of a day: {prune_s:.2f} s (goal < {PRUNE_GOAL_S:.0f}) {verdict(prune_s < PRUNE_GOAL_S)}"
        )
        print(
            f"  one database host at the import rate beside {args.events:,}:"
            f" {full_rate * 86400 / 1e6:,.0f}M records/day"
        )
    finally:
        if not args.keep:
            drop_database(url)


def _pages_again(args: argparse.Namespace, url: str) -> None:
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settle("campaigns_deliveryevent")
    events = sql("SELECT count(*) FROM campaigns_deliveryevent")[0][0]
    print(f"pages, beside {events:,} events:")
    pages = measure_pages(args, datetime.now(UTC).date())
    worst = max(pages, key=lambda r: r["p95"])
    print(f"  page p95: worst {worst['p95']:.1f} ms ({worst['case']}, {worst['persona']})")


def _import_again(args: argparse.Namespace, url: str) -> None:
    setup_django(url)
    from django.core.management import call_command
    from gen_accounting import MEAN_GAP_SECONDS, generate

    call_command("migrate", verbosity=0)
    settle("campaigns_deliveryevent")
    events = sql("SELECT count(*) FROM campaigns_deliveryevent")[0][0]
    now = datetime.now(UTC)
    path = Path(tempfile.mkdtemp(prefix="ee-bench-events-")) / f"acct-{now:%H%M%S}.csv"
    # Numbered after anything an earlier run imported: none of these records is stored yet.
    serial = sql("SELECT last_value FROM campaigns_deliveryevent_id_seq")[0][0]
    generate(
        path,
        args.records,
        start=now - timedelta(seconds=args.records * MEAN_GAP_SECONDS + 60),
        first_serial=serial,
    )
    id_before = sql("SELECT last_value FROM campaigns_deliveryevent_id_seq")[0][0]
    n, seconds, _, _ = import_file(path)
    id_after = sql("SELECT last_value FROM campaigns_deliveryevent_id_seq")[0][0]
    print(f"import beside {events:,} events: {n:,} records in {seconds:.1f} s = {n / seconds:,.0f}/s")
    for which, floor in floors((id_before + 1, id_after), n / seconds):
        print(
            f"  import vs plain COPY into {which}: {floor:.2f}x (goal >= {FLOOR_RATIO_GOAL})"
            f" {verdict(floor >= FLOOR_RATIO_GOAL)}"
        )


if __name__ == "__main__":
    main()
