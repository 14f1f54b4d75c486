"""The home page: a fleet overview for operators, the tenant's own numbers for tenant users."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(tenant_a, tenant_b):
    from ips.models import IPAddress, IPPool, MtaServer

    server = MtaServer(name="pmta-home")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    for tenant, net in ((tenant_a, "203.0.113"), (tenant_b, "198.51.100")):
        pool = IPPool.objects.create(name=f"pool-{tenant.slug}", server=server, tenant=tenant)
        for i, status in enumerate(["active", "warming", "paused"], start=1):
            address = f"{net}.{i}"
            IPAddress.objects.create(
                address=address,
                server=server,
                pool=pool,
                status=status,
                vmta_name=IPAddress.default_vmta_name(address),
            )
    return server


def test_operators_see_the_whole_fleet(login, operator, fleet, django_assert_max_num_queries):
    client = login(operator)
    with django_assert_max_num_queries(16):
        response = client.get("/")
    body = response.content.decode()
    assert "Fleet overview" in body and "pmta-home" in body
    assert response.context["totals"]["IPs"] == 6
    assert response.context["totals"]["paused IPs"] == 2


def test_tenant_users_see_only_their_numbers(login, viewer_a, fleet, django_assert_max_num_queries):
    client = login(viewer_a)
    with django_assert_max_num_queries(14):
        response = client.get("/")
    assert response.context["totals"]["IPs"] == 3
    assert "pmta-home" not in response.content.decode()


def test_the_demo_data_renders_for_every_persona(client, capsys):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo")
    capsys.readouterr()
    for username in ("operator", "sos-expat-admin", "ulixai-viewer"):
        client.force_login(get_user_model().objects.get(username=username))
        assert client.get("/").status_code == 200
