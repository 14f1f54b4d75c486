"""/providers/: operators edit the provider groups PMTA limits as one destination (queue-to, UG5 10.9)."""

import pytest

from core.models import AuditEvent
from ips.models import IPAddress, IPPool, IPStatus, MtaServer, ProviderGroup
from ips.pmta_config import render_server_config

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_groups")]


def test_it_ships_groups_for_the_tenants_real_audiences_including_the_french_ones():
    groups = {g.name: g for g in ProviderGroup.objects.all()}
    assert {"gmail", "microsoft", "yahoo", "orange", "free", "sfr", "laposte"} <= set(groups)
    assert {"orange.fr", "wanadoo.fr"} <= set(groups["orange"].domains)
    assert {"sfr.fr", "neuf.fr"} <= set(groups["sfr"].domains)
    assert groups["free"].domains == ["free.fr"] and groups["laposte"].domains == ["laposte.net"]
    assert {"hotmail.fr", "live.fr", "outlook.fr"} <= set(groups["microsoft"].domains)
    assert "yahoo.fr" in groups["yahoo"].domains
    every = [d for g in groups.values() for d in g.domains]
    assert len(every) == len(set(every))  # a domain is in one group only


def test_operators_edit_a_group_and_the_render_follows(login, operator):
    client = login(operator)
    assert "orange.fr" in client.get("/providers/").text
    group = ProviderGroup.objects.get(name="orange")
    response = client.post(
        f"/providers/{group.pk}/",
        {"label": "Orange", "domains": "orange.fr\nwanadoo.fr\nvoila.fr", "mx_domain": "orange.fr"},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.domains == ["orange.fr", "voila.fr", "wanadoo.fr"]
    assert AuditEvent.objects.get(action="provider_group.save").before["domains"] == [
        "orange.fr",
        "wanadoo.fr",
    ]

    server = MtaServer.objects.create(name="m1", webhook_token_hash="x")
    pool = IPPool.objects.create(name="p1", server=server)
    IPAddress.objects.create(
        address="192.0.2.1",
        server=server,
        pool=pool,
        vmta_name="v1",
        status=IPStatus.ACTIVE,
        provider_limits={"orange": {"daily": 240, "hourly": 10}},
    )
    text = render_server_config(server)["emailengine-vmtas.conf"]
    assert "<domain voila.fr>\n        queue-to orange.queue\n    </domain>" in text
    assert "        max-msg-rate 10/h\n" in text


def test_it_refuses_bad_domains_and_a_domain_in_two_groups(login, operator):
    client = login(operator)
    response = client.post(
        "/providers/new/", {"name": "webde", "domains": "web.de\nnot a domain", "mx_domain": "web.de"}
    )
    assert response.status_code == 400 and "is not a domain name" in response.text
    response = client.post(
        "/providers/new/", {"name": "dup", "domains": "gmail.com", "mx_domain": "gmail.com"}
    )
    assert response.status_code == 400 and "gmail.com already in the gmail group" in response.text
    assert not ProviderGroup.objects.filter(name__in=["webde", "dup"]).exists()
    response = client.post(
        "/providers/new/", {"name": "webde", "domains": "web.de, gmx.de", "mx_domain": "web.de"}
    )
    assert response.status_code == 302
    assert ProviderGroup.objects.get(name="webde").domains == ["gmx.de", "web.de"]


def test_only_operators_see_or_change_groups(login, admin_a, viewer_a, operator):
    group = ProviderGroup.objects.get(name="free")
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get("/providers/").status_code == 404
        assert client.post(f"/providers/{group.pk}/delete/").status_code == 404
    assert ProviderGroup.objects.filter(pk=group.pk).exists()
    response = login(operator).post(f"/providers/{group.pk}/delete/")
    assert response.status_code == 302 and not ProviderGroup.objects.filter(pk=group.pk).exists()
