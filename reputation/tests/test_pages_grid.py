"""The reputation grid for a fleet: listed targets first, "only problems" / "only listed" that show the
problem in the row itself, a page that holds a fleet's worth of rows, and operators' bulk actions."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from ips.models import IPAddress, IPStatus
from reputation.models import Blocklist, CheckState, CheckStatus, Kind, Listing

pytestmark = pytest.mark.django_db

OVERVIEW = "/reputation/"
BULK = "/reputation/bulk/"


def _state(target, blocklist: Blocklist, status: str, meaning: str = "") -> None:
    is_ip = isinstance(target, IPAddress)
    name = target.address if is_ip else target.name
    CheckState.objects.create(
        target=name,
        target_kind=Kind.IP if is_ip else Kind.DOMAIN,
        ip=target if is_ip else None,
        domain=None if is_ip else target,
        blocklist=blocklist,
        status=status,
        code="127.0.0.2" if status == CheckStatus.LISTED else "",
        meaning=meaning,
    )
    if status == CheckStatus.LISTED:
        Listing.objects.create(
            target=name,
            target_kind=Kind.IP if is_ip else Kind.DOMAIN,
            ip=target if is_ip else None,
            domain=None if is_ip else target,
            blocklist=blocklist,
            code="127.0.0.2",
            meaning=meaning,
            first_seen=timezone.now(),
        )


@pytest.fixture
def grid(inventory):
    """ip_a clean, ip_b listed on the last list by name, a third IP with an error, dom_b listed."""
    ip_lists = list(Blocklist.objects.filter(kind=Kind.IP, enabled=True).order_by("name"))
    dom_list = Blocklist.objects.filter(kind=Kind.DOMAIN, enabled=True).order_by("name").first()
    erring = IPAddress.objects.create(
        address="192.0.2.15",
        server=inventory.ip_a.server,
        pool=inventory.ip_a.pool,
        status=IPStatus.ACTIVE,
        vmta_name="v15",
    )
    for bl in ip_lists:
        _state(inventory.ip_a, bl, CheckStatus.CLEAN)
    _state(inventory.ip_b, ip_lists[-1], CheckStatus.LISTED, "listed for spam traps")
    _state(erring, ip_lists[0], CheckStatus.ERROR, "timeout")
    _state(inventory.dom_b, dom_list, CheckStatus.LISTED, "spam domain")
    inventory.erring = erring
    inventory.last_list = ip_lists[-1]
    return inventory


def _ip_order(response) -> list[str]:
    return [row.target.target for row in response.context["ip_rows"]]


def test_it_puts_listed_targets_first_then_those_without_a_verdict(login, operator, grid):
    response = login(operator).get(OVERVIEW)
    assert _ip_order(response) == ["192.0.2.20", "192.0.2.15", "192.0.2.10"]
    assert [row.target.target for row in response.context["domain_rows"]] == [
        "b-sender.example",
        "a-sender.example",
    ]


def test_only_problems_shows_the_problem_in_the_row_itself(login, operator, grid):
    response = login(operator).get(OVERVIEW, {"only": "problems"})
    assert _ip_order(response) == ["192.0.2.20", "192.0.2.15"]
    html = response.content.decode()
    # The summary cell names the list and says why, next to the address (no scrolling to the column).
    listed_row = response.context["ip_rows"][0]
    assert [c.blocklist.name for c in listed_row.problem_cells] == [grid.last_list.name]
    assert f"<strong>{grid.last_list.name}</strong>: listed for spam traps" in html
    assert "a-sender.example" not in html
    # The older spelling still works (links and bookmarks).
    assert _ip_order(login(operator).get(OVERVIEW, {"problems": "on"})) == ["192.0.2.20", "192.0.2.15"]


def test_only_listed_leaves_out_targets_without_a_verdict(login, operator, grid):
    response = login(operator).get(OVERVIEW, {"only": "listed"})
    assert _ip_order(response) == ["192.0.2.20"]
    assert [row.target.target for row in response.context["domain_rows"]] == ["b-sender.example"]


def test_a_tenant_sees_only_its_own_problems(login, admin_a, viewer_a, grid):
    for user in (admin_a, viewer_a):
        response = login(user).get(OVERVIEW, {"only": "problems"})
        assert _ip_order(response) == ["192.0.2.15"]
        html = response.content.decode()
        assert "192.0.2.20" not in html and "b-sender.example" not in html
        assert 'name="targets"' not in html and reverse("reputation_bulk") not in html


def test_it_shows_one_compact_column_per_enabled_list(login, operator, grid):
    html = login(operator).get(OVERVIEW).content.decode()
    n_lists = Blocklist.objects.filter(enabled=True).count()
    assert html.count('class="rep-list"') == n_lists
    assert 'class="rep-grid-scroll"' in html


def test_a_page_holds_a_hundred_rows(login, operator, inventory):
    from reputation.views import GRID_PAGE_SIZE

    assert GRID_PAGE_SIZE == 100
    for n in range(105):
        address = f"10.9.{n // 250}.{n % 250 + 1}"
        IPAddress.objects.create(
            address=address, server=inventory.ip_a.server, pool=inventory.ip_a.pool, vmta_name=f"g{n}"
        )
    response = login(operator).get(OVERVIEW, {"kind": "ip"})
    assert len(response.context["ip_rows"]) == 100 and response.context["page"].paginator.num_pages == 2


def test_an_operator_pauses_the_selected_ips_with_a_reason(login, operator, grid):
    client = login(operator)
    response = client.post(
        BULK,
        {
            "targets": [f"ip:{grid.ip_b.pk}", f"ip:{grid.erring.pk}", f"domain:{grid.dom_b.pk}"],
            "action": "pause",
            "reason": "listed on a critical list",
            "next": "only=problems",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/reputation/?only=problems"
    assert set(IPAddress.objects.filter(status=IPStatus.PAUSED).values_list("address", flat=True)) == {
        "192.0.2.20",
        "192.0.2.15",
    }
    assert AuditEvent.objects.filter(action="ip.status", reason="listed on a critical list").count() == 2


def test_a_pause_needs_a_reason_and_a_selection(login, operator, grid):
    client = login(operator)
    response = client.post(BULK, {"targets": [f"ip:{grid.ip_b.pk}"], "action": "pause"}, follow=True)
    assert "Say why these IPs are paused." in response.content.decode()
    response = client.post(BULK, {"action": "recheck"}, follow=True)
    assert "Select at least one IP or domain." in response.content.decode()
    assert not IPAddress.objects.filter(status=IPStatus.PAUSED).exists()


def test_recheck_sweeps_only_the_selected_targets(login, operator, grid, settings, monkeypatch):
    from reputation import services
    from reputation.models import Sweep

    swept: list[list[str]] = []

    def fake_sweep_run(*, targets=None, trigger="schedule"):
        swept.append(sorted(targets))
        return Sweep.objects.create(trigger=trigger, targets=len(targets))

    monkeypatch.setattr(services, "sweep_run", fake_sweep_run)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = login(operator).post(
        BULK,
        {"targets": [f"ip:{grid.ip_b.pk}", f"domain:{grid.dom_b.pk}"], "action": "recheck"},
        follow=True,
    )
    assert swept == [["192.0.2.20", "b-sender.example"]]
    assert "Re-checked 2 target(s)" in response.content.decode()


def test_recheck_enqueues_the_targets_after_commit(
    login, operator, grid, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from reputation import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(tasks.sweep_dnsbl, "delay", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        login(operator).post(BULK, {"targets": [f"ip:{grid.ip_a.pk}"], "action": "recheck"})
    assert sent == [{"trigger": "manual", "targets": ["192.0.2.10"]}]


def test_the_sweep_of_chosen_targets_takes_addresses_and_domains_together(inventory):
    from reputation.services import sweep_inventory

    ips, domains = sweep_inventory(["192.0.2.10", "a-sender.example"])
    assert list(ips) == ["192.0.2.10"] and list(domains) == ["a-sender.example"]


@pytest.mark.parametrize("persona", ["admin_a", "viewer_a", "admin_b"])
def test_bulk_actions_are_operator_only(request, login, persona, grid):
    response = login(request.getfixturevalue(persona)).post(
        BULK, {"targets": [f"ip:{grid.ip_a.pk}"], "action": "pause", "reason": "x"}
    )
    assert response.status_code == 404
    grid.ip_a.refresh_from_db()
    assert grid.ip_a.status == IPStatus.ACTIVE
