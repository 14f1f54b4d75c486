"""Finding: any tenant admin could claim any domain name (gmail.com, or another customer's domain) and PMTA
then signed for it, and "already registered" told them another tenant had it. Now a new domain is pending
until its TXT token is published (checked against the local DNS server), PMTA signs only for verified
domains, operators may vouch for one (audited), and nothing a tenant sees reveals other tenants' domains."""

import pytest

from core.models import AuditEvent
from domains.models import SendingDomain
from domains.pmta_fragment import render_dkim_fragment
from domains.services import domain_check_run, domain_create

pytestmark = pytest.mark.django_db


def add(client, name: str):
    return client.post(
        "/domains/new/", {"name": name, "expected_dmarc_policy": "none", "key_bits": "1024"}, follow=True
    )


def test_a_new_domain_is_pending_and_not_signed_for(login, admin_a, tenant_a, dns_settings):
    response = add(login(admin_a), "gmail.com")
    domain = SendingDomain.objects.get(tenant=tenant_a, name="gmail.com")
    assert domain.ownership == "pending" and not domain.is_verified
    html = response.content.decode()
    assert "_emailengine-challenge.gmail.com" in html and domain.verification_record_value in html
    assert "gmail.com" not in render_dkim_fragment()


def test_publishing_the_token_verifies_the_domain(login, admin_a, tenant_a, dns_settings):
    client = login(admin_a)
    add(client, "news.example")
    domain = SendingDomain.objects.get(name="news.example")
    response = client.post(f"/domains/{domain.pk}/verify/", follow=True)
    assert "not verified yet" in response.content.decode() and "No TXT record" in response.content.decode()

    dns_settings.add(domain.verification_record_name, "TXT", "emailengine-verification=someone-elses-token")
    client.post(f"/domains/{domain.pk}/verify/")
    domain.refresh_from_db()
    assert not domain.is_verified  # the wrong token proves nothing

    dns_settings.add(domain.verification_record_name, "TXT", domain.verification_record_value)
    response = client.post(f"/domains/{domain.pk}/verify/", follow=True)
    domain.refresh_from_db()
    assert domain.ownership == "dns" and domain.verified_at is not None
    assert "news.example is verified" in response.content.decode()
    event = AuditEvent.objects.get(action="domain.verify")
    assert (event.actor, event.after["ownership"]) == (admin_a, "dns")
    assert "news.example" in render_dkim_fragment()


def test_the_scheduled_dns_check_verifies_a_published_token(tenant_a, dns_settings):
    domain = domain_create(tenant=tenant_a, name="later.example", by="system: test", key_bits=1024)
    domain_check_run(domain=domain)
    assert not SendingDomain.objects.get(pk=domain.pk).is_verified
    dns_settings.add(domain.verification_record_name, "TXT", domain.verification_record_value)
    domain_check_run(domain=domain)
    assert SendingDomain.objects.get(pk=domain.pk).ownership == "dns"


def test_claims_reveal_nothing_about_other_tenants(login, admin_b, tenant_a, tenant_b, dns_settings):
    theirs = domain_create(
        tenant=tenant_a, name="customer.example", by="system: test", key_bits=1024, skip_verification=True
    )
    client = login(admin_b)
    response = add(client, "customer.example")
    html = response.content.decode()
    assert response.status_code == 200
    for leak in ("already", "registered", "another tenant", tenant_a.name):
        assert leak not in html
    mine = SendingDomain.objects.get(tenant=tenant_b, name="customer.example")
    assert not mine.is_verified

    # Even with our own token published, the name stays with its verified owner; the message names no one.
    dns_settings.add(mine.verification_record_name, "TXT", mine.verification_record_value)
    html = client.post(f"/domains/{mine.pk}/verify/", follow=True).content.decode()
    assert "cannot be verified for this tenant" in html and tenant_a.name not in html
    mine.refresh_from_db()
    assert not mine.is_verified
    assert SendingDomain.objects.get(pk=theirs.pk).is_verified


def test_operators_may_vouch_for_a_domain_with_an_audited_reason(login, operator, admin_a, tenant_a):
    domain = domain_create(tenant=tenant_a, name="vouched.example", by="system: test", key_bits=1024)
    # Operator-only actions answer 404 to tenant users (tenants.access.require_operator).
    tenant_try = login(admin_a).post(f"/domains/{domain.pk}/verify/skip/", {"reason": "trust me"})
    assert tenant_try.status_code == 404
    client = login(operator)
    client.post(f"/domains/{domain.pk}/verify/skip/", {"reason": ""})
    assert not SendingDomain.objects.get(pk=domain.pk).is_verified  # a reason is required
    client.post(f"/domains/{domain.pk}/verify/skip/", {"reason": "confirmed by phone"})
    domain.refresh_from_db()
    assert domain.ownership == "operator"
    event = AuditEvent.objects.get(action="domain.verify_skip")
    assert (event.actor, event.reason) == (operator, "confirmed by phone")


def test_an_operator_can_skip_the_check_when_adding(login, operator, tenant_b):
    login(operator).post(
        "/domains/new/",
        {
            "tenant": tenant_b.pk,
            "name": "ops.example",
            "expected_dmarc_policy": "none",
            "key_bits": "1024",
            "skip_verification": "on",
        },
    )
    domain = SendingDomain.objects.get(name="ops.example")
    assert domain.ownership == "operator"
    assert AuditEvent.objects.get(action="domain.create").after["ownership"] == "operator"
