"""Domain pages per persona: tenant admins manage, viewers read, other tenants get 404, operators export."""

import io
import tarfile

import pytest

from core.models import AuditEvent
from domains.models import DkimKey, DomainCheck, SendingDomain
from domains.tests.dnsdata import publish_all


@pytest.mark.django_db
def test_it_lets_a_tenant_admin_add_a_domain_and_see_the_records_to_publish(login, admin_a, tenant_a, pool_a):
    client = login(admin_a)
    assert client.get("/domains/new/").status_code == 200

    response = client.post(
        "/domains/new/",
        {
            "name": "Exämple.com",
            "return_path_domain": "",
            "expected_dmarc_policy": "reject",
            "key_bits": "1024",
        },
    )

    domain = SendingDomain.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/domains/{domain.pk}/"
    assert domain.tenant == tenant_a and domain.name == "xn--exmple-cua.com"
    key = domain.keys.get()
    assert (key.bits, key.state) == (1024, "active")
    page = client.get(f"/domains/{domain.pk}/").content.decode()
    assert "exämple.com" in page
    assert f"{key.selector}._domainkey.xn--exmple-cua.com. 3600 IN TXT" in page
    assert "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all" in page
    assert "v=DMARC1; p=reject" in page
    assert "PRIVATE KEY" not in page
    assert AuditEvent.objects.get(action="domain.create").actor == admin_a


@pytest.mark.django_db
def test_it_explains_an_invalid_or_duplicate_name_on_the_form(login, admin_a, make_domain):
    make_domain("taken.example")
    client = login(admin_a)

    bad = client.post(
        "/domains/new/", {"name": "not a domain", "expected_dmarc_policy": "none", "key_bits": "1024"}
    )
    assert bad.status_code == 200 and "not a valid domain name" in bad.content.decode()
    dup = client.post(
        "/domains/new/", {"name": "TAKEN.example", "expected_dmarc_policy": "none", "key_bits": "1024"}
    )
    assert "is already one of this tenant&#x27;s domains" in dup.content.decode()
    assert SendingDomain.objects.count() == 1


@pytest.mark.django_db
def test_it_lets_an_operator_choose_the_tenant(login, operator, tenant_b):
    client = login(operator)
    client.post(
        "/domains/new/",
        {
            "tenant": tenant_b.pk,
            "name": "b.example",
            "expected_dmarc_policy": "quarantine",
            "key_bits": "1024",
        },
    )
    assert SendingDomain.objects.get().tenant == tenant_b


@pytest.mark.django_db
def test_it_lets_viewers_read_but_not_change(login, viewer_a, make_domain):
    domain = make_domain("example.com")
    client = login(viewer_a)

    assert client.get("/domains/").status_code == 200
    page = client.get(f"/domains/{domain.pk}/")
    assert page.status_code == 200 and "Recheck now" not in page.content.decode()
    assert client.get("/domains/new/").status_code == 403
    assert client.post("/domains/new/", {"name": "v.example"}).status_code == 403
    assert client.get(f"/domains/{domain.pk}/edit/").status_code == 403
    for action in (
        "check",
        "edit",
        "delete",
        "dkim/start",
        "dkim/verify",
        "dkim/activate",
        "dkim/cancel",
        "dkim/retire",
    ):
        assert client.post(f"/domains/{domain.pk}/{action}/").status_code == 403, action
    assert SendingDomain.objects.filter(pk=domain.pk).exists()
    assert domain.keys.count() == 1
    assert AuditEvent.objects.exclude(action="domain.create").count() == 0


@pytest.mark.django_db
def test_it_answers_404_for_another_tenants_domain_everywhere(login, admin_b, viewer_a, make_domain):
    domain = make_domain("example.com")
    for user in (admin_b,):
        client = login(user)
        assert domain.name not in client.get("/domains/").content.decode()
        assert client.get(f"/domains/{domain.pk}/").status_code == 404
        assert client.get(f"/domains/{domain.pk}/edit/").status_code == 404
        for action in (
            "check",
            "edit",
            "delete",
            "dkim/start",
            "dkim/verify",
            "dkim/activate",
            "dkim/cancel",
            "dkim/retire",
        ):
            assert client.post(f"/domains/{domain.pk}/{action}/").status_code == 404, action
    assert SendingDomain.objects.filter(pk=domain.pk).exists()


@pytest.mark.django_db
def test_it_rechecks_with_htmx_and_returns_the_checks_partial(
    login, admin_a, make_domain, pool_a, dns_settings
):
    domain = make_domain("example.com")
    publish_all(dns_settings, domain)
    client = login(admin_a)

    response = client.post(f"/domains/{domain.pk}/check/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="checks"') and "<html" not in html
    assert html.count('class="badge ok"') >= 5
    assert set(DomainCheck.objects.filter(domain=domain).values_list("status", flat=True)) == {"ok"}
    # Without htmx the same button posts and comes back to the page.
    plain = client.post(f"/domains/{domain.pk}/check/")
    assert plain.status_code == 302 and plain["Location"] == f"/domains/{domain.pk}/"
    timeline = client.get(f"/domains/{domain.pk}/").content.decode()
    assert "domain.check" in timeline


@pytest.mark.django_db
def test_it_walks_the_rotation_wizard_through_the_pages(login, admin_a, make_domain, dns_settings):
    domain = make_domain("example.com")
    old = domain.keys.get()
    client = login(admin_a)

    client.post(f"/domains/{domain.pk}/dkim/start/", {"key_bits": "1024", "selector": "s2"})
    new = DkimKey.objects.get(domain=domain, selector="s2")
    page = client.get(f"/domains/{domain.pk}/").content.decode()
    assert "Rotation in progress" in page and "s2._domainkey.example.com. 3600 IN TXT" in page

    response = client.post(f"/domains/{domain.pk}/dkim/activate/", follow=True)
    assert "not published correctly" in response.content.decode()
    new.refresh_from_db()
    assert new.state == "pending"

    dns_settings.add("s2._domainkey.example.com", "TXT", f"v=DKIM1; k=rsa; p={new.public_key_b64}")
    client.post(f"/domains/{domain.pk}/dkim/verify/")
    client.post(f"/domains/{domain.pk}/dkim/activate/")
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.state, old.state) == ("active", "retiring")

    # A tenant admin cannot cut the grace period short; an operator can.
    assert (
        client.post(
            f"/domains/{domain.pk}/dkim/retire/", {"selector": old.selector, "force": "1"}
        ).status_code
        == 403
    )
    client.post(f"/domains/{domain.pk}/dkim/retire/", {"selector": old.selector})
    old.refresh_from_db()
    assert old.state == "retiring"

    timeline = client.get(f"/domains/{domain.pk}/").content.decode()
    for action in ("dkim.rotation_start", "dkim.rotation_verify", "dkim.rotation_activate"):
        assert action in timeline


@pytest.mark.django_db
def test_it_edits_and_deletes_with_audit(login, admin_a, make_domain):
    domain = make_domain("example.com")
    client = login(admin_a)

    client.post(
        f"/domains/{domain.pk}/edit/",
        {"return_path_domain": "rp.example.com", "expected_dmarc_policy": "reject"},
    )
    domain.refresh_from_db()
    assert (domain.return_path_domain, domain.expected_dmarc_policy) == ("rp.example.com", "reject")

    assert client.get(f"/domains/{domain.pk}/delete/").status_code == 405
    response = client.post(f"/domains/{domain.pk}/delete/")
    assert response.status_code == 302 and not SendingDomain.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "domain.create",
        "domain.update",
        "domain.delete",
    ]


@pytest.mark.django_db
def test_it_lets_only_operators_see_the_fragment_and_download_keys(
    login, operator, admin_a, viewer_a, make_domain
):
    domain = make_domain("example.com", selector="ee202601")
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get("/domains/dkim/fragment/").status_code == 404
        assert client.post("/domains/dkim/keys/").status_code == 404
    assert not AuditEvent.objects.filter(action="dkim.export").exists()

    client = login(operator)
    page = client.get("/domains/dkim/fragment/").content.decode()
    assert (
        "example.com selector ee202601 (signs): /etc/pmta/emailengine/dkim/example.com.ee202601.pem" in page
    )
    assert "PRIVATE KEY" not in page
    download = client.get("/domains/dkim/fragment/?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="emailengine-dkim.conf"'
    assert b"# example.com selector ee202601 (signs)" in download.content

    response = client.post("/domains/dkim/keys/")
    assert response["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        names = tar.getnames()
        member = tar.getmember("etc/pmta/emailengine/dkim/example.com.ee202601.pem")
        pem = tar.extractfile(member).read().decode()
    assert "etc/pmta/emailengine/emailengine-dkim.conf" in names
    assert member.mode == 0o600
    assert pem == domain.keys.get().private_key
    event = AuditEvent.objects.get(action="dkim.export")
    assert event.actor == operator and event.after["keys"] == 1


@pytest.mark.django_db
def test_it_lists_domains_with_a_badge_per_check_in_constant_queries(
    login, admin_a, operator, tenant_a, tenant_b, django_assert_max_num_queries
):
    for n in range(12):
        domain = SendingDomain.objects.create(
            tenant=tenant_a if n % 2 else tenant_b,
            name=f"d{n}.example",
            return_path_domain=f"bounce.d{n}.example",
        )
        for check in ("spf", "dkim", "dmarc", "mx", "ptr"):
            DomainCheck.objects.create(domain=domain, name=check, status="ok" if n % 3 else "missing")

    client = login(operator)
    with django_assert_max_num_queries(8):
        response = client.get("/domains/")
    html = response.content.decode()
    assert html.count("<tr>") == 13 and html.count('class="badge missing"') >= 4 * 5

    client = login(admin_a)
    html = client.get("/domains/?q=d1").content.decode()
    assert "d1.example" in html and "d11.example" in html and "d10.example" not in html  # d10 is tenant B's
    partial = client.get("/domains/?q=d3", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "d3.example" in partial
