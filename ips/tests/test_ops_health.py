"""Health polling against a local stand-in of PMTA's web monitor (testsupport/pmta_standin.py)."""

import socket

import pytest

from core.models import AuditEvent
from ips import tasks
from ips.health import HealthResult, poll_server, server_health_poll, server_health_store
from ips.models import MtaServer
from testsupport.pmta_standin import PmtaStandin, standin_queue

API_KEY = "pmta-api-key-1"


@pytest.fixture
def pmta():
    with PmtaStandin(api_key=API_KEY, slow_seconds=3) as standin:
        standin.queues = [
            standin_queue(
                "gmail.com/vmta-192-0-2-10", rcp=40, mode="backoff", error="421 4.7.28 rate limited"
            ),
            standin_queue("yahoo.com/vmta-192-0-2-10", rcp=12),
            standin_queue("aol.com/vmta-192-0-2-11", rcp=77, mode="backoff"),
        ]
        yield standin


@pytest.fixture
def server(db, pmta):
    return MtaServer.objects.create(
        name="mta-1", webhook_token_hash="h", mgmt_url=pmta.url + "/", mgmt_api_key=API_KEY
    )


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_it_reads_status_and_backoff_queues(server, pmta):
    result = poll_server(server, timeout=2)
    assert result.up is True and result.error == ""
    assert result.traffic_hour_out_rcp == 348704
    assert result.traffic_hour_out_msg == 348700
    assert result.smtp_out_conn == 11
    assert (result.queued_rcp, result.queued_domains) == (805, 226)
    assert [q["name"] for q in result.backoff_queues] == [
        "aol.com/vmta-192-0-2-11",
        "gmail.com/vmta-192-0-2-10",
    ]
    assert result.backoff_queues[1]["last_error"] == "421 4.7.28 rate limited"
    assert [path for path, _ in pmta.requests] == ["/status", "/queues"]
    assert all(headers.get("x-api-key") == API_KEY for _, headers in pmta.requests)


def test_it_reads_the_xml_form_too(server, pmta):
    pmta.force_format = "xml"
    result = poll_server(server, timeout=2)
    assert result.up is True, result.error
    assert result.smtp_out_conn == 11 and result.queued_rcp == 805
    assert len(result.backoff_queues) == 2


def test_a_wrong_api_key_is_down_with_the_reason(server):
    server.mgmt_api_key = "wrong"
    result = poll_server(server, timeout=2)
    assert result.up is False
    assert result.error == "HTTP 401 (API key refused)"


def test_garbage_is_down_not_an_exception(server, pmta):
    pmta.mode = "garbage"
    result = poll_server(server, timeout=2)
    assert result.up is False
    assert result.error.startswith("/status: not JSON")


def test_an_internal_error_is_down(server, pmta):
    pmta.mode = "500"
    result = poll_server(server, timeout=2)
    assert (result.up, result.error) == (False, "HTTP 500 (Internal Server Error)")


def test_a_slow_server_times_out_as_down(server, pmta):
    pmta.mode = "slow"
    result = poll_server(server, timeout=0.3)
    assert result.up is False and result.error.endswith("no answer from 127.0.0.1 within 0.3s")


def test_a_closed_port_is_down(db):
    server = MtaServer(name="gone", mgmt_url=f"http://127.0.0.1:{_closed_port()}")
    result = poll_server(server, timeout=1)
    assert result.up is False
    assert result.error.startswith("cannot connect to 127.0.0.1:") and "refused" in result.error


def test_a_server_without_a_management_url_is_unknown(db):
    result = poll_server(MtaServer(name="nourl"), timeout=1)
    assert (result.up, result.label) == (None, "unknown")


def test_it_is_up_when_only_the_queues_page_fails(server, pmta, monkeypatch):
    original = pmta.queues_document
    monkeypatch.setattr(pmta, "queues_document", lambda: {"status": "error", "message": "busy"})
    result = poll_server(server, timeout=2)
    assert result.up is True
    assert result.error == "queues not read: /queues: PMTA says 'error' busy"
    monkeypatch.setattr(pmta, "queues_document", original)


def test_storing_audits_only_up_down_changes(server):
    def store(up):
        server_health_store(server=server, result=HealthResult(up=up, error="" if up else "cannot connect"))

    store(True)  # unknown -> up: first poll, no event
    store(True)
    assert not AuditEvent.objects.filter(action="server.health").exists()
    store(False)
    store(False)
    store(True)
    events = list(AuditEvent.objects.filter(action="server.health").order_by("pk"))
    assert [(e.before, e.after) for e in events] == [
        ({"health": "up"}, {"health": "down"}),
        ({"health": "down"}, {"health": "up"}),
    ]
    assert events[0].actor_label == "system: health poll" and events[0].reason == "cannot connect"


def test_a_poll_writes_the_health_fields(server):
    server_health_poll(server=server, timeout=2)
    server.refresh_from_db()
    assert server.health_up is True and server.health_label == "up"
    assert server.health_checked_at is not None
    assert server.health_queued_rcp == 805
    assert len(server.health_backoff_queues) == 2


def test_the_poll_button_returns_the_partial_for_htmx(server, operator, login):
    client = login(operator)
    response = client.post(f"/servers/{server.pk}/health/poll/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="server-health-{server.pk}"' in response.text
    assert "gmail.com/vmta-192-0-2-10" in response.text
    assert "<html" not in response.text
    server.refresh_from_db()
    assert server.health_up is True


def test_the_poll_swaps_the_page_header_badge_too(server, operator, login):
    """The server page's header badge and the health card say the same after "Poll now" (issue #19)."""
    client = login(operator)
    page = client.get(f"/servers/{server.pk}/").text
    assert f'<span class="badge unknown" id="server-health-badge-{server.pk}">unknown</span>' in page
    assert "hx-swap-oob" not in page
    response = client.post(f"/servers/{server.pk}/health/poll/", headers={"HX-Request": "true"})
    badge = f'<span class="badge up" id="server-health-badge-{server.pk}" hx-swap-oob="true">up</span>'
    assert badge in response.text


def test_the_poll_button_redirects_without_htmx(server, operator, login):
    response = login(operator).post(f"/servers/{server.pk}/health/poll/")
    assert response.status_code == 302
    assert response["Location"] == f"/servers/{server.pk}/"


def test_the_poll_button_is_for_operators_only(server, admin_a, viewer_a, login):
    for user in (admin_a, viewer_a):
        assert login(user).post(f"/servers/{server.pk}/health/poll/").status_code == 404
    server.refresh_from_db()
    assert server.health_checked_at is None


def test_the_tasks_poll_every_pollable_server(server, django_capture_on_commit_callbacks, monkeypatch):
    MtaServer.objects.create(name="no-url", webhook_token_hash="h2")
    queued = []
    monkeypatch.setattr(tasks.poll_server_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_all_servers() == 1
    assert queued == [server.pk]
    assert tasks.poll_server_task(server.pk) == "up"
    assert tasks.poll_server_task(999999) == "gone"


def test_a_redirect_is_not_followed_so_the_key_stays_home(server, pmta, monkeypatch):
    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", "https://elsewhere.example/status")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    monkeypatch.setattr(pmta, "_handle", redirect)
    result = poll_server(server, timeout=2)
    assert result.up is False
    assert result.error.startswith("redirected (302) to https://elsewhere.example/status")


def test_a_management_url_on_a_link_local_address_is_refused(db):
    """Health polls go through the guarded client: an operator URL may be private, never cloud metadata."""
    server = MtaServer(name="meta", mgmt_url="http://169.254.169.254/latest", mgmt_api_key="k")
    result = poll_server(server, timeout=1)
    assert result.up is False and "link-local" in result.error
