"""Sending domains: IDNA-normalised unique names, defaults, and the audit event of each change."""

import pytest

from core.models import AuditEvent
from domains.models import InvalidDomainName, SendingDomain, normalise_domain
from domains.services import DomainError, domain_delete, domain_update


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Exämple.COM", "xn--exmple-cua.com"),
        ("  News.Example.com. ", "news.example.com"),
        ("xn--exmple-cua.com", "xn--exmple-cua.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
    ],
)
def test_it_normalises_names_to_lowercase_idna_ascii(given, stored):
    assert normalise_domain(given) == stored


@pytest.mark.parametrize(
    "bad", ["", "localhost", "exa mple.com", "-bad.com", "a..b.com", "192.0.2.1", "x_y.com"]
)
def test_it_rejects_names_that_are_not_domains(bad):
    with pytest.raises(InvalidDomainName):
        normalise_domain(bad)


@pytest.mark.django_db
def test_it_stores_the_idna_form_with_a_default_return_path_and_an_active_key(make_domain):
    domain = make_domain("Exämple.COM")

    assert domain.name == "xn--exmple-cua.com"
    assert domain.display_name == "exämple.com"
    assert domain.return_path_domain == "bounce.xn--exmple-cua.com"
    assert domain.expected_dmarc_policy == "quarantine"
    keys = list(domain.keys.all())
    assert [(key.state, key.bits) for key in keys] == [("active", 1024)]
    event = AuditEvent.objects.get(action="domain.create")
    assert event.after["name"] == "xn--exmple-cua.com" and event.after["selector"] == keys[0].selector
    assert event.tenant_id == domain.tenant_id


@pytest.mark.django_db
def test_it_refuses_a_duplicate_even_when_spelled_differently(make_domain, tenant_b):
    make_domain("exämple.com")

    with pytest.raises(DomainError, match="already one of this tenant's domains"):
        make_domain("EXÄMPLE.com.")
    # Another tenant cannot hold the verified name too (ownership rules: test_security_domain_ownership).
    with pytest.raises(DomainError, match="already verified for another tenant"):
        make_domain("EXÄMPLE.com.", tenant=tenant_b)
    assert SendingDomain.objects.count() == 1
    assert AuditEvent.objects.filter(action="domain.create").count() == 1


@pytest.mark.django_db
def test_it_generates_2048_bit_keys_by_default(tenant_a):
    from domains.services import domain_create

    domain = domain_create(tenant=tenant_a, name="big.example", by="system: test")

    assert domain.keys.get().bits == 2048


@pytest.mark.django_db
def test_it_audits_updates_only_when_something_changes_and_deletes(make_domain):
    domain = make_domain("example.com")

    domain_update(domain=domain, by="system: test", return_path_domain="", expected_dmarc_policy="quarantine")
    assert not AuditEvent.objects.filter(action="domain.update").exists()

    domain_update(
        domain=domain, by="system: test", return_path_domain="RP.Example.com", expected_dmarc_policy="reject"
    )
    event = AuditEvent.objects.get(action="domain.update")
    assert event.before == {"return_path_domain": "bounce.example.com", "expected_dmarc_policy": "quarantine"}
    assert event.after == {"return_path_domain": "rp.example.com", "expected_dmarc_policy": "reject"}

    domain_delete(domain=domain, by="system: test")
    assert not SendingDomain.objects.exists()
    assert AuditEvent.objects.get(action="domain.delete").before["name"] == "example.com"
