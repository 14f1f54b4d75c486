"""Finding: /readyz answers anyone and showed the raw database error (host, port, user, database name).
It now says which dependency is unavailable and logs the details."""

from django.db import connections


def test_readyz_names_the_failing_dependency_without_its_error_text(
    client, django_db_blocker, monkeypatch, caplog
):
    with django_db_blocker.unblock():
        conn = connections["default"]
        conn.close()
        monkeypatch.setitem(conn.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(conn.settings_dict, "PORT", "1")
        monkeypatch.setitem(conn.settings_dict, "USER", "secret_db_user")
        monkeypatch.setitem(conn.settings_dict, "OPTIONS", {"connect_timeout": 2})
        try:
            response = client.get("/readyz")
        finally:
            conn.close()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "unavailable"
    text = response.content.decode()
    for leak in ("127.0.0.1", "secret_db_user", "OperationalError", "port 1", "refused"):
        assert leak not in text
    assert "readyz: the database check failed" in caplog.text  # operators still get the details
