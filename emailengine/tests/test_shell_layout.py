"""The layout every page shares (base.html): grouped menu with the current page marked, skip link, and the
operators' banner for servers whose PMTA runs an older config than desired, paid for with one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def servers(db):
    from ips.models import MtaServer, PmtaConfigRender

    def make(name: str, *, applied: int | None, desired: int | None, agent: bool = True) -> MtaServer:
        server = MtaServer(name=name, config_applied_version=applied)
        server.agent_last_seen = timezone.now() if agent else None
        server.set_webhook_token(MtaServer.new_token())
        server.save()
        for version in range(1, (desired or 0) + 1):
            PmtaConfigRender.objects.create(
                server=server, created_by="test", digest=str(version), version=version
            )
        return server

    return {
        "behind": make("pmta-behind", applied=1, desired=3),
        "current": make("pmta-current", applied=2, desired=2),
        "no-agent": make("pmta-no-agent", applied=None, desired=2, agent=False),
    }


def test_the_menu_is_grouped_and_marks_the_current_page(login, operator):
    body = login(operator).get("/reputation/providers/").content.decode()
    assert '<a class="skip-link" href="#main">Skip to content</a>' in body
    assert '<main class="container" id="main" tabindex="-1">' in body
    assert '<details class="navmenu" id="navmenu">' in body
    for group in ("Fleet", "Reputation", "Mail", "Account"):
        assert f">{group}</span>" in body
    # The longest matching entry is the current one: Provider data, not Reputation.
    assert '<a href="/reputation/providers/" aria-current="page">Provider data</a>' in body
    assert '<a href="/reputation/" aria-current' not in body
    assert body.count('aria-current="page"') == 1


def test_home_is_current_only_on_itself(login, viewer_a):
    client = login(viewer_a)
    assert 'class="nav-home" href="/" aria-current="page"' in client.get("/").content.decode()
    assert 'aria-current="page">Home' not in client.get("/ips/").content.decode()


def test_tenant_users_get_their_tenant_not_the_admin(login, viewer_a, tenant_a):
    body = login(viewer_a).get("/ips/").content.decode()
    assert f'href="/tenants/{tenant_a.pk}/">My tenant</a>' in body
    assert "/admin/" not in body


def test_operators_see_which_servers_run_an_older_config(login, operator, servers):
    body = login(operator).get("/ips/").content.decode()
    banner = body.split('id="config-drift-banner"')[1].split("</div>")[0]
    assert "pmta-behind</a>: applied version 1, desired 3" in banner
    assert f'href="/servers/{servers["behind"].pk}/"' in banner
    # In sync: nothing to say. No agent: nothing known about what PMTA runs (the server page says "no agent").
    assert "pmta-current" not in banner and "pmta-no-agent" not in banner


def test_no_banner_when_every_server_is_current(login, operator, servers):
    from ips.models import MtaServer

    MtaServer.objects.filter(pk=servers["behind"].pk).update(config_applied_version=3)
    assert 'id="config-drift-banner"' not in login(operator).get("/ips/").content.decode()


def test_tenant_users_never_see_the_banner(login, admin_a, servers):
    assert 'id="config-drift-banner"' not in login(admin_a).get("/ips/").content.decode()


def _queries(client, path: str, **headers: str) -> list[str]:
    client.get(path, headers=headers)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as ctx:
        client.get(path, headers=headers)
    return [q["sql"] for q in ctx.captured_queries]


def test_the_banner_costs_one_query_and_only_on_full_pages(login, operator, servers):
    """One query whatever the number of servers; none for htmx partials, which do not render base.html."""
    client = login(operator)
    full = [sql for sql in _queries(client, "/pools/") if "pmtaconfigrender" in sql.lower()]
    assert len(full) == 1
    htmx = _queries(client, "/audit/", **{"HX-Request": "true"})
    partial = [sql for sql in htmx if "pmtaconfigrender" in sql.lower()]
    assert partial == []
