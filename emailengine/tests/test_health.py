import pytest
from django.db import connections


def test_it_says_healthz_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_reports_ready_when_database_and_broker_answer(client, settings, redis_url):
    assert redis_url == settings.CELERY_BROKER_URL
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_it_reports_503_when_the_database_is_unreachable(client, django_db_blocker, monkeypatch):
    with django_db_blocker.unblock():
        conn = connections["default"]
        conn.close()
        # Port 1 on loopback: nothing listens there, so the connection is refused at once.
        monkeypatch.setitem(conn.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(conn.settings_dict, "PORT", "1")
        monkeypatch.setitem(conn.settings_dict, "OPTIONS", {"connect_timeout": 2})
        try:
            response = client.get("/readyz")
        finally:
            conn.close()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] != "ok"


@pytest.mark.django_db
def test_it_serves_prometheus_metrics(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests" in response.content
