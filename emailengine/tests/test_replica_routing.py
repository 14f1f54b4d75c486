"""Dashboard pages read the event store from the read replica; sessions, forms, hooks and tasks stay on
the primary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import DailyStat, DeliveryEvent, Suppression
from campaigns.tests.page_factories import make_event
from emailengine.db_router import REPLICA, ReplicaRouter, _replica_reads


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup, django_db_blocker):
    """A second connection alias to the test database, as DATABASE_REPLICA_URL adds (a streaming
    replica holds the same rows; here it is the same database through a connection of its own). Made
    for this module only, before any test's database setup, which must know the alias."""
    connections.settings[REPLICA] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    yield
    with django_db_blocker.unblock():
        connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica():
    return connections[REPLICA]


def _tables(queries: list[dict]) -> str:
    return " ".join(q["sql"] for q in queries)


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_a_dashboard_page_reads_events_from_the_replica_and_the_session_from_the_primary(
    replica, login, admin_a, tenant_a
):
    make_event(
        tenant_a, "bob@example.com", when=timezone.now() - timedelta(hours=1), dsn_diag="seen on replica"
    )
    client = login(admin_a)
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get("/messages/?q=bob@example.com")
    assert response.status_code == 200 and "seen on replica" in response.content.decode()
    assert "campaigns_deliveryevent" in _tables(on_replica.captured_queries)
    assert "campaigns_deliveryevent" not in _tables(on_primary.captured_queries)
    assert "django_session" in _tables(on_primary.captured_queries)
    assert "django_session" not in _tables(on_replica.captured_queries)
    assert "campaigns_suppression" not in _tables(on_replica.captured_queries)  # a tenant edits it


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_posts_and_machine_endpoints_stay_on_the_primary(replica, login, admin_a, client):
    with CaptureQueriesContext(replica) as on_replica:
        login(admin_a).post("/suppression/add/", {"email": "gone@example.com"})
        client.post("/hooks/pmta/accounting", b"", content_type="text/csv")
        client.get("/api/v1/me")
    assert on_replica.captured_queries == []


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, as a page is served
def test_the_router_sends_only_event_store_reads_of_a_page_to_a_configured_replica():
    router = ReplicaRouter()
    assert router.db_for_read(DeliveryEvent) is None  # no page: a task, the importer, a command
    token = _replica_reads.set(True)
    try:
        assert router.db_for_read(DeliveryEvent) == REPLICA
        assert router.db_for_read(DailyStat) == REPLICA
        assert router.db_for_read(Suppression) is None
        with transaction.atomic():
            assert router.db_for_read(DeliveryEvent) is None  # a transaction reads its own writes
    finally:
        _replica_reads.reset(token)
    assert router.db_for_write(DeliveryEvent) == "default"
    assert router.allow_migrate(REPLICA, "campaigns") is False
    assert router.allow_migrate("default", "campaigns") is True


def test_without_a_replica_everything_reads_the_primary(db, monkeypatch):
    from emailengine import db_router

    monkeypatch.setattr(db_router, "replica_configured", lambda: False)
    token = _replica_reads.set(True)
    try:
        assert ReplicaRouter().db_for_read(DeliveryEvent) is None
    finally:
        _replica_reads.reset(token)


def test_settings_add_the_replica_from_its_url(monkeypatch):
    """DATABASE_REPLICA_URL becomes the 'replica' alias, mirrored onto the primary in tests."""
    import importlib

    from emailengine import settings as project_settings

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.internal:5432/emailengine")
    try:
        fresh = importlib.reload(project_settings)
        assert fresh.DATABASES[REPLICA]["HOST"] == "replica.internal"
        assert fresh.DATABASES[REPLICA]["TEST"] == {"MIRROR": "default"}
        assert fresh.DATABASE_ROUTERS == ["emailengine.db_router.ReplicaRouter"]
    finally:
        monkeypatch.delenv("DATABASE_REPLICA_URL")
        importlib.reload(project_settings)
