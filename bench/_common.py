"""What the benchmarks share (bench/accounting_import.py, bench/api.py, bench/dashboard.py,
bench/event_store.py, bench/suppression_import.py): Django set up for a run, a database to run in, the
scale data set, timing and percentiles, the database settled between steps, and the sending inventory
bench/gen_accounting.py's records name.

Benchmarks are not tests: they print figures and verdicts, and never run in the test suite.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench", ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# gen_accounting.py's sending IPs: the first seven are registered (four in one tenant's pool, three in
# another's); 203.0.113.21 stays unknown on purpose, so its records keep no tenant.
BENCH_IPS = (10, 11, 12, 13, 14, 15, 20)


def setup_django(database_url: str | None = None) -> None:
    """Django configured as in production (DEBUG off, connections kept), on ``database_url`` when given.

    DEBUG off means secrets at rest need a key: a throw-away one per run.
    """
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
    # As deployed (docker-compose.yml, deploy/systemd/emailengine.env.example): a kept connection.
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    import django

    django.setup()


# --- databases -----------------------------------------------------------------------------------------


@contextmanager
def throwaway_database() -> Iterator[None]:
    """``test_<name>`` of DATABASE_URL's database, created, migrated and dropped as Django's test runner
    does, so a run never touches real data."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        if connection.settings_dict["NAME"] != old_name:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def scratch_url(name: str) -> str:
    """DATABASE_URL with its database replaced by ``name`` (before Django is set up)."""
    from embedded_db import ensure_database_url

    parts = urlsplit(ensure_database_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str) -> Any:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    return psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True)


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin(url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    with _admin(url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')}")


def sql(statement: str, params: list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def settle(*tables: str) -> None:
    """VACUUM ANALYZE, then a checkpoint: what a bulk load leaves behind (autovacuum's first pass, the
    checkpoint that flushes it) is not timed as the next step's work."""
    for table in tables:
        sql(f"VACUUM (ANALYZE) {table}")
    sql("CHECKPOINT")


# --- timing --------------------------------------------------------------------------------------------


@dataclass
class Stopwatch:
    seconds: float = 0.0

    def rate(self, count: int) -> float:
        return count / self.seconds if self.seconds else 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """``with stopwatch() as watch: ...``; then ``watch.seconds`` (wall time, perf_counter)."""
    watch = Stopwatch()
    started = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


# --- inventory -----------------------------------------------------------------------------------------


def bench_sending_ips(server: Any, tenants: list[Any]) -> None:
    """gen_accounting.py's sending IPs on ``server``, in a pool of each of two ``tenants``: the records'
    tenant, campaign and suppression work is then real."""
    from ips.models import IPAddress, IPPool

    pools = [
        IPPool.objects.create(name=f"bench-{tenant.slug}", server=server, tenant=tenant) for tenant in tenants
    ]
    for i, last in enumerate(BENCH_IPS):
        IPAddress.objects.create(
            address=f"203.0.113.{last}", server=server, vmta_name=f"vmta-{last}", pool=pools[i // 4]
        )


# --- the scale data set (bench/dashboard.py, bench/api.py) ---------------------------------------------

# seed_scale's options for --small: a tenth of the data.
SMALL_SCALE = ("--tenants", "10", "--ips", "500", "--domains", "200", "--days", "30")


def scale_database(name: str, *, small: bool = False, reuse: bool = False) -> None:
    """Django set up on the scratch database ``name`` (on DATABASE_URL's server, or the embedded
    Postgres), migrated and holding seed_scale's data set (100 tenants, 5,000 IPs, 2,000 domains, 90 days
    of stats; ``small``: a tenth). The database is dropped and recreated unless ``reuse``, which keeps
    it, migrates it and seeds only when it holds no scale data."""
    url = scratch_url(name)
    if not reuse:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from emailengine.scale import scale_exists

    if not (reuse and scale_exists()):
        options = ["--force", *(SMALL_SCALE if small else ())]
        with stopwatch() as watch:
            call_command("seed_scale", *options)
        print(f"seed_scale took {watch.seconds:.1f} s\n")
