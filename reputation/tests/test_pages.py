"""The reputation pages: the grid per persona, per-target history, the catalogue page, "Sweep now"."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from reputation.models import Blocklist, Listing, Sweep
from reputation.selectors import recent_changes
from reputation.services import sweep_run

pytestmark = pytest.mark.django_db

OVERVIEW = "/reputation/"


@pytest.fixture
def swept(inventory, dnsbl):
    dnsbl.list("192.0.2.10", "bl.spamcop.net", "127.0.0.2")
    dnsbl.list("192.0.2.20", "psbl.surriel.com", "127.0.0.2")
    dnsbl.list("192.0.2.10", "zen.spamhaus.org", "127.255.255.254")  # an error cell
    dnsbl.list("b-sender.example", "dbl.spamhaus.org", "127.0.1.4")
    sweep_run()
    return inventory


def test_an_operator_sees_every_target_with_meanings_delist_links_and_errors(login, operator, swept):
    html = login(operator).get(OVERVIEW).content.decode()
    for target in ("192.0.2.10", "192.0.2.20", "a-sender.example", "b-sender.example"):
        assert target in html
    assert "192.0.2.30" not in html  # retired
    assert "listed on SpamCop (spam reports)" in html
    assert "https://www.spamcop.net/bl.shtml" in html
    assert "DBL: phishing domain" in html
    assert 'class="badge dnsbl-error"' in html and "public/open resolvers" in html
    assert "Sweep now" in html and "last sweep" in html


def test_a_tenant_user_sees_only_their_own_ips_and_domains(login, admin_a, viewer_a, swept):
    for user in (admin_a, viewer_a):
        html = login(user).get(OVERVIEW).content.decode()
        assert "192.0.2.10" in html and "a-sender.example" in html
        assert "192.0.2.20" not in html and "b-sender.example" not in html
        assert "PSBL" not in html and "DBL: phishing" not in html
        assert "Sweep now" not in html


def test_the_counts_follow_the_scope(rf, admin_a, operator, swept):
    from reputation.selectors import scope_counts

    request = rf.get(OVERVIEW)
    request.user = admin_a
    assert scope_counts(request)["listed"] == 1
    request = rf.get(OVERVIEW)
    request.user = operator
    counts = scope_counts(request)
    assert (counts["listed"], counts["listed_targets"], counts["errors"]) == (3, 3, 1)


def test_the_filters_keep_only_problems_and_one_kind(login, operator, swept):
    client = login(operator)
    html = client.get(OVERVIEW, {"problems": "on"}).content.decode()
    assert "192.0.2.10" in html and "b-sender.example" in html and "a-sender.example" not in html
    html = client.get(OVERVIEW, {"kind": "domain"}).content.decode()
    assert "a-sender.example" in html and "192.0.2.10" not in html
    html = client.get(
        OVERVIEW, {"q": "b-send"}, headers={"HX-Request": "true", "HX-Target": "reputation-results"}
    )
    body = html.content.decode()
    assert "b-sender.example" in body and "<html" not in body


def test_the_overview_runs_a_constant_number_of_queries(
    login, operator, swept, django_assert_max_num_queries
):
    from ips.models import IPAddress

    client = login(operator)
    for n in range(40):
        address = f"192.0.2.{100 + n}"
        IPAddress.objects.create(
            address=address,
            server=swept.ip_a.server,
            pool=swept.ip_a.pool,
            vmta_name=f"v{n}",
            status="active",
        )
    sweep_run()
    with django_assert_max_num_queries(12):
        response = client.get(OVERVIEW)
    from reputation.views import GRID_PAGE_SIZE

    # A full page of the 42 IPs (all of them, a page holds more) was rendered with those queries.
    assert response.status_code == 200
    assert response.content.decode().count("/reputation/ips/") == min(42, GRID_PAGE_SIZE)


def test_target_history_is_scoped(login, admin_a, operator, swept):
    client = login(admin_a)
    own = client.get(reverse("reputation_ip", kwargs={"ip_id": swept.ip_a.pk}))
    assert own.status_code == 200
    html = own.content.decode()
    assert "SpamCop" in html and "still listed" in html and "https://www.spamcop.net/bl.shtml" in html
    assert client.get(reverse("reputation_ip", kwargs={"ip_id": swept.ip_b.pk})).status_code == 404
    assert client.get(reverse("reputation_domain", kwargs={"domain_id": swept.dom_a.pk})).status_code == 200
    assert client.get(reverse("reputation_domain", kwargs={"domain_id": swept.dom_b.pk})).status_code == 404
    op = login(operator)
    html = op.get(reverse("reputation_domain", kwargs={"domain_id": swept.dom_b.pk})).content.decode()
    assert "DBL: phishing domain" in html


def test_history_shows_first_seen_and_cleared(login, operator, swept, dnsbl):
    dnsbl.unlist("192.0.2.10", "bl.spamcop.net")
    sweep_run()
    listing = Listing.objects.get(target="192.0.2.10", blocklist__key="spamcop")
    html = login(operator).get(reverse("reputation_ip", kwargs={"ip_id": swept.ip_a.pk})).content.decode()
    assert listing.cleared_at.strftime("%Y-%m-%d %H:%M") in html
    assert "Never listed" not in html


def test_recent_changes_are_scoped(rf, admin_a, admin_b, operator, swept, dnsbl):
    dnsbl.unlist("192.0.2.10", "bl.spamcop.net")
    sweep_run()
    request = rf.get("/")
    request.user = admin_a
    changes = recent_changes(request, limit=10)
    assert [(c.action, c.listing.target) for c in changes] == [
        ("cleared", "192.0.2.10"),
        ("listed", "192.0.2.10"),
    ]
    request = rf.get("/")
    request.user = operator
    assert len(recent_changes(request, limit=2)) == 2
    assert {c.listing.target for c in recent_changes(request, limit=10)} == {
        "192.0.2.10",
        "192.0.2.20",
        "b-sender.example",
    }


def test_sweep_now_is_for_operators_and_runs_inline_when_eager(
    login, admin_a, operator, inventory, dnsbl, settings
):
    assert login(admin_a).post(reverse("reputation_sweep_now")).status_code == 404
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = login(operator).post(reverse("reputation_sweep_now"), follow=True)
    assert Sweep.objects.get().trigger == "manual"
    assert "Sweep finished" in response.content.decode()


def test_sweep_now_enqueues_after_commit(
    login, operator, inventory, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from reputation import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(tasks.sweep_dnsbl, "delay", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(operator).post(reverse("reputation_sweep_now"))
    assert response.status_code == 302 and sent == [{"trigger": "manual"}]


def test_blocklists_page_is_operator_only_and_edits_are_audited(login, admin_a, operator, db):
    zen = Blocklist.objects.get(key="spamhaus-zen")
    url = reverse("blocklist_edit", kwargs={"blocklist_id": zen.pk})
    assert login(admin_a).get(reverse("blocklist_list")).status_code == 404
    assert login(admin_a).get(url).status_code == 404
    client = login(operator)
    assert "Spamhaus ZEN" in client.get(reverse("blocklist_list")).content.decode()
    response = client.post(
        url,
        {
            "enabled": "on",
            "severity": "major",
            "delist_url": "https://check.spamhaus.org/",
            "dqs_key": "abc123key",
        },
    )
    assert response.status_code == 302
    zen.refresh_from_db()
    assert (zen.severity, zen.dqs_key, zen.uses_dqs) == ("major", "abc123key", True)
    event = AuditEvent.objects.get(action="blocklist.update")
    assert event.before == {"severity": "critical", "dqs_key_set": False}
    assert "abc123key" not in str(event.after)
    # Write-only: the key is not sent back, and an empty field keeps it.
    page = client.get(url).content.decode()
    assert "abc123key" not in page
    client.post(url, {"severity": "major", "delist_url": "https://check.spamhaus.org/"})
    zen.refresh_from_db()
    assert zen.dqs_key == "abc123key" and not zen.enabled
    client.post(url, {"enabled": "on", "severity": "critical", "clear_dqs_key": "on"})
    zen.refresh_from_db()
    assert zen.dqs_key == "" and zen.enabled


def test_the_ip_page_shows_the_blocklist_card(login, operator, swept):
    response = login(operator).get(reverse("ip_detail", kwargs={"ip_id": swept.ip_a.pk}))
    assert response.status_code == 200
    assert "listed on SpamCop (spam reports)" in response.content.decode()
