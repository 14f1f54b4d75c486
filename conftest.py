"""Shared fixtures: personas, the service gates (Redis, Chromium) and the local DNS server."""

import base64
import os
import shutil

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip with a clear reason, or fail when CI demands every real service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the real services its fixtures need, so a run can leave out what a machine lacks:
    `-m "not redis and not browser"` (.ci/run's embedded-PostgreSQL pass does)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)
        if "chromium_path" in fixtures:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Name the random test order at the end too (the header that shows it is hidden by -q), so any failing
    order can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f'Random test order: seed {seed}; repeat it with make test ARGS="--randomly-seed={seed}"'
        )


def pytest_configure(config):
    """Tests run with DEBUG off, as production does, so they need a FIELD_ENCRYPTION_KEY (core/checks.py):
    a random one per run, also put in the environment so the processes tests start share it."""
    if not os.environ.get("FIELD_ENCRYPTION_KEY"):
        os.environ["FIELD_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        from django.conf import settings
    except ImportError:
        return
    if settings.configured and not settings.FIELD_ENCRYPTION_KEY:
        settings.FIELD_ENCRYPTION_KEY = os.environ["FIELD_ENCRYPTION_KEY"]


# Django imports stay inside fixtures so pure-Python tests can run with `-p no:django`.


def _tenant(name: str, slug: str):
    from tenants.models import Tenant

    return Tenant.objects.create(name=name, slug=slug)


def _member(tenant, username: str, role: str):
    from django.contrib.auth import get_user_model

    from tenants.models import Membership

    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def tenant_a(db):
    return _tenant("Tenant A", "tenant-a")


@pytest.fixture
def tenant_b(db):
    return _tenant("Tenant B", "tenant-b")


@pytest.fixture
def operator(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="op", password="pw-op", is_staff=True)


@pytest.fixture
def admin_a(tenant_a):
    return _member(tenant_a, "admin-a", "admin")


@pytest.fixture
def viewer_a(tenant_a):
    return _member(tenant_a, "viewer-a", "viewer")


@pytest.fixture
def admin_b(tenant_b):
    return _member(tenant_b, "admin-b", "admin")


@pytest.fixture
def login(client):
    """login(user) -> the test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_missing("REDIS_URL is not set, so no real Redis to test against")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_missing(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        service_missing("Chromium is not installed (Debian package `chromium`)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        service_missing("the playwright package is not installed")
    return path


@pytest.fixture
def dns_server():
    from testsupport.dnsserver import LocalDNSServer

    with LocalDNSServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_real_dns(settings):
    """Tests never reach a real resolver: without the dns_server fixture, lookups fail fast and locally."""
    settings.DNS_NAMESERVERS = ["127.0.0.1:9"]
    settings.DNS_TIMEOUT = 0.5


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google's hosts, which this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(chromium_path, monkeypatch):
    """A headless Chromium page; `page.csp_errors` collects console errors (CSP violations show there)."""
    # Playwright's sync API runs an event loop in this thread; the live server's DB work is elsewhere.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.csp_errors = errors
        yield page
        # Between its calls Playwright marks its event loop as running in this thread, and while a loop runs
        # Django keeps connections in a context variable instead of the thread-local: the test's database
        # work after Playwright started used connections of their own, which pytest-django's cleanup
        # (after Playwright stops) never sees. Left open, one blocked DROP DATABASE at the end of the
        # run. Close them here, while that storage is still the one in use.
        from django.db import connections

        connections.close_all()
        context.close()
        browser.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end a check that nothing else still holds it.

    A connection left open by a thread, a live server or a subprocess makes DROP DATABASE fail at the end
    of the run (only a warning from pytest-django) and means something leaks connections: fail instead,
    naming the sessions.
    """
    yield
    import time

    from django.db import connection

    others: list[tuple] = []
    with django_db_blocker.unblock():
        deadline = time.monotonic() + 10  # a subprocess that just exited may take a moment to be gone
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid, application_name, state, left(query, 300) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                others = cursor.fetchall()
            if not others or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        connection.close()
    if others:
        pytest.fail(f"sessions still connected to the test database at the end: {others}", pytrace=False)
