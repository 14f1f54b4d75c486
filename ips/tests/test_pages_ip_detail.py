"""One IP's page: what each persona sees, operator actions, and 403/404 for tenant users."""

import pytest

from core.models import AuditEvent
from ips import services
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory


@pytest.fixture
def ip_a(tenant_a):
    return IPAddressFactory(
        address="203.0.113.5",
        pool=IPPoolFactory(name="a-main", tenant=tenant_a),
        status=IPStatus.ACTIVE,
        daily_limit=5000,
        hourly_limit=400,
        provider_limits={"gmail.com": {"hourly": 100}},
    )


@pytest.fixture
def ip_b(tenant_b):
    return IPAddressFactory(
        address="198.51.100.5", pool=IPPoolFactory(tenant=tenant_b), status=IPStatus.ACTIVE
    )


@pytest.mark.django_db
def test_it_shows_fields_limits_and_the_status_timeline(login, operator, ip_a):
    services.ip_pause(ip=ip_a, by="system: test", reason="spam trap hits")
    response = login(operator).get(f"/ips/{ip_a.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "203.0.113.5",
        ip_a.vmta_name,
        ip_a.hostname,
        "5000 messages",
        "400 messages",
        "gmail.com",
        "100/hourly",
        "a-main",
        "spam trap hits",
        "ip.status",
    ):
        assert text in html, text
    assert [e.action for e in response.context["timeline"]] == ["ip.status"]
    # The paused IP offers resume to where it came from.
    assert ("resume", "Resume (active)") in response.context["status_actions"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_shows_tenant_users_their_ip_without_actions(request, login, persona, ip_a):
    response = login(request.getfixturevalue(persona)).get(f"/ips/{ip_a.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "203.0.113.5" in html
    assert f"/ips/{ip_a.pk}/status/" not in html and "Move to pool" not in html
    assert ip_a.server.name not in html  # servers are operator-only


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("status/", {"to": "paused", "reason": "x"}),
        ("move/", {"pool": ""}),
        ("edit/", {"hostname": "h.test"}),
    ],
)
def test_it_refuses_tenant_users_actions_403_on_own_ip_404_on_others(
    request, login, persona, suffix, data, ip_a, ip_b
):
    client = login(request.getfixturevalue(persona))
    assert client.post(f"/ips/{ip_a.pk}/{suffix}", data).status_code == 403
    assert client.post(f"/ips/{ip_b.pk}/{suffix}", data).status_code == 404
    assert client.get(f"/ips/{ip_b.pk}/").status_code == 404
    ip_a.refresh_from_db()
    assert ip_a.status == IPStatus.ACTIVE and ip_a.hostname != "h.test"
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_lets_an_operator_pause_and_resume_with_a_reason(login, operator, ip_a):
    client = login(operator)
    response = client.post(f"/ips/{ip_a.pk}/status/", {"to": "paused", "reason": "Gmail 421s"})
    assert response.status_code == 302
    ip_a.refresh_from_db()
    assert ip_a.status == IPStatus.PAUSED and ip_a.status_reason == "Gmail 421s"
    client.post(f"/ips/{ip_a.pk}/status/", {"to": "resume", "reason": "calmer now"})
    ip_a.refresh_from_db()
    assert ip_a.status == IPStatus.ACTIVE
    events = list(AuditEvent.objects.order_by("id"))
    assert [(e.after, e.reason, e.actor) for e in events] == [
        ({"status": "paused"}, "Gmail 421s", operator),
        ({"status": "active"}, "calmer now", operator),
    ]


@pytest.mark.django_db
def test_it_requires_a_reason_to_pause_or_retire(login, operator, ip_a):
    client = login(operator)
    response = client.post(f"/ips/{ip_a.pk}/status/", {"to": "retired", "reason": ""}, follow=True)
    assert "A reason is required" in response.content.decode()
    ip_a.refresh_from_db()
    assert ip_a.status == IPStatus.ACTIVE


@pytest.mark.django_db
def test_it_reports_a_refused_transition_instead_of_crashing(login, operator):
    ip = IPAddressFactory(status=IPStatus.RETIRED)
    response = login(operator).post(f"/ips/{ip.pk}/status/", {"to": "active", "reason": "back"}, follow=True)
    assert response.status_code == 200
    assert "cannot go from retired to active" in response.content.decode()
    ip.refresh_from_db()
    assert ip.status == IPStatus.RETIRED


@pytest.mark.django_db
def test_it_moves_an_ip_between_pools_of_its_server_and_edits_the_hostname(login, operator, ip_a, tenant_b):
    target = IPPoolFactory(name="b-new", server=ip_a.server, tenant=tenant_b)
    client = login(operator)
    client.post(f"/ips/{ip_a.pk}/move/", {"pool": target.pk, "reason": "sold to B"})
    client.post(f"/ips/{ip_a.pk}/edit/", {"hostname": "mta5.b.test"})
    ip_a.refresh_from_db()
    assert ip_a.pool == target and ip_a.hostname == "mta5.b.test"
    move = AuditEvent.objects.get(action="ip.move")
    assert move.after == {"pool": "b-new"} and move.reason == "sold to B" and move.tenant == tenant_b
    assert AuditEvent.objects.get(action="ip.update").after == {"hostname": "mta5.b.test"}


@pytest.mark.django_db
def test_it_does_not_offer_pools_of_another_server(login, operator, ip_a):
    elsewhere = IPPoolFactory(server=MtaServerFactory())
    response = login(operator).post(f"/ips/{ip_a.pk}/move/", {"pool": elsewhere.pk}, follow=True)
    assert "Select a valid choice" in response.content.decode()
    ip_a.refresh_from_db()
    assert ip_a.pool.name == "a-main"


@pytest.mark.django_db
def test_it_renders_cards_other_apps_add(login, operator, ip_a, monkeypatch):
    from ips import selectors, views

    block = selectors.IPBlock(title="Warmup", template="partials/pagination.html", context={})
    monkeypatch.setattr(views, "ip_detail_blocks", lambda request, ip: [block])
    html = login(operator).get(f"/ips/{ip_a.pk}/").content.decode()
    assert "<h2>Warmup</h2>" in html


@pytest.mark.django_db
def test_it_shows_no_empty_slots_when_no_app_adds_a_card(login, operator, ip_a, monkeypatch):
    from ips import views

    monkeypatch.setattr(views, "ip_detail_blocks", lambda request, ip: [])
    html = login(operator).get(f"/ips/{ip_a.pk}/").content.decode()
    assert "ip-block" not in html


@pytest.mark.django_db
def test_it_discovers_cards_from_other_apps_in_order(login, operator, ip_a):
    response = login(operator).get(f"/ips/{ip_a.pk}/")
    blocks = response.context["ip_blocks"]
    assert [b.order for b in blocks] == sorted(b.order for b in blocks)
    html = response.content.decode()
    for block in blocks:
        assert f"<h2>{block.title}</h2>" in html


@pytest.mark.django_db
def test_it_renders_without_the_ops_pieces(login, operator, ip_a, monkeypatch):
    from ips import views

    monkeypatch.setattr(
        views,
        "ops_features",
        lambda: dict.fromkeys(
            ["rdns_partial", "rdns_check", "health_partial", "health_poll", "server_config"], False
        ),
    )
    ip_a.rdns_status, ip_a.rdns_ptr = "mismatch", "wrong.example.com"
    ip_a.save()
    html = login(operator).get(f"/ips/{ip_a.pk}/").content.decode()
    assert "wrong.example.com" in html and "Check now" not in html
    assert login(operator).get(f"/servers/{ip_a.server_id}/").status_code == 200
