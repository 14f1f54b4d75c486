"""domain_check_run end to end against a real DNS server on 127.0.0.1, with the tenant's pool IPs."""

import pytest

from core.models import AuditEvent
from domains.models import DomainCheck, SendingDomain
from domains.selectors import zone_snippet
from domains.services import domain_check_run
from domains.tests.dnsdata import publish_all


def _statuses(domain) -> dict[str, str]:
    return dict(DomainCheck.objects.filter(domain=domain).values_list("name", "status"))


@pytest.mark.django_db
def test_it_turns_green_as_dns_is_fixed_and_audits_only_changes(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com")

    domain_check_run(domain=domain)
    assert _statuses(domain) == {
        "spf": "missing",
        "dkim": "missing",
        "dmarc": "missing",
        "mx": "missing",
        "ptr": "missing",
    }
    spf = DomainCheck.objects.get(domain=domain, name="spf")
    # SPF proposes exactly the pool's sending IPs (the retired one is not among them).
    assert spf.expected_record == (
        'bounce.example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all"'
    )
    assert "bounce.example.com" in spf.explanation
    assert AuditEvent.objects.filter(action="domain.check").count() == 5
    domain.refresh_from_db()
    assert domain.status == "missing" and domain.last_checked_at is not None

    # Nothing changed in DNS: no new audit events.
    domain_check_run(domain=domain)
    assert AuditEvent.objects.filter(action="domain.check").count() == 5

    publish_all(dns_settings, domain)
    checks = domain_check_run(domain=domain, by="system: test")
    assert {check.name: check.status for check in checks} == dict.fromkeys(
        ["spf", "dkim", "dmarc", "mx", "ptr"], "ok"
    ), {check.name: check.explanation for check in checks}
    changes = AuditEvent.objects.filter(action="domain.check", actor_label="system: test")
    assert changes.count() == 5
    spf_change = changes.get(after__check="spf")
    assert spf_change.before == {"check": "spf", "status": "missing"}
    assert spf_change.after["status"] == "ok"
    assert spf_change.object_id == str(domain.pk) and spf_change.tenant_id == domain.tenant_id
    domain.refresh_from_db()
    assert domain.status == "ok"


@pytest.mark.django_db
def test_it_flags_an_spf_record_that_misses_a_pool_ip_or_allows_everyone(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com")
    publish_all(dns_settings, domain, skip=("spf",))
    dns_settings.add("bounce.example.com", "TXT", "v=spf1 ip4:192.0.2.10 ?all")

    domain_check_run(domain=domain)
    spf = DomainCheck.objects.get(domain=domain, name="spf")
    assert spf.status == "invalid"
    assert "192.0.2.11" in spf.explanation
    assert (
        spf.expected_record == 'bounce.example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all"'
    )

    dns_settings.remove("bounce.example.com", "TXT")
    dns_settings.add("bounce.example.com", "TXT", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 +all")
    domain_check_run(domain=domain)
    assert DomainCheck.objects.get(domain=domain, name="spf").status == "invalid"


@pytest.mark.django_db
def test_it_reports_dmarc_none_as_a_warning_and_a_wrong_key_as_invalid(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com")
    publish_all(dns_settings, domain, skip=("dmarc", "dkim"))
    dns_settings.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none")
    key = domain.keys.get()
    dns_settings.add(f"{key.selector}._domainkey.example.com", "TXT", "v=DKIM1; k=rsa; p=MIIBIjANBgkq")

    domain_check_run(domain=domain)
    dmarc = DomainCheck.objects.get(domain=domain, name="dmarc")
    assert dmarc.status == "warning"
    assert "p=none" in dmarc.explanation and "SPF aligns" in dmarc.explanation
    assert DomainCheck.objects.get(domain=domain, name="dkim").status == "invalid"


@pytest.mark.django_db
def test_it_aggregates_ptr_over_every_pool_ip(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com")
    publish_all(dns_settings, domain, skip=("ptr",))
    dns_settings.add("10.2.0.192.in-addr.arpa", "PTR", "mta1.example.net.")
    dns_settings.add("mta1.example.net", "A", "192.0.2.10")

    domain_check_run(domain=domain)
    ptr = DomainCheck.objects.get(domain=domain, name="ptr")
    assert ptr.status == "missing"
    assert ptr.details["ips"]["192.0.2.10"]["status"] == "ok"
    assert "1 of 2 sending IPs" in ptr.explanation and "192.0.2.11 has no PTR" in ptr.explanation
    assert "11.2.0.192.in-addr.arpa. 3600 IN PTR mta2.example.net." in ptr.expected_record


@pytest.mark.django_db
def test_it_reports_a_timeout_as_unknown_never_missing(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com")
    publish_all(dns_settings, domain)
    domain_check_run(domain=domain)
    assert set(_statuses(domain).values()) == {"ok"}

    dns_settings.set_behaviour("*.example.com", "timeout")
    dns_settings.set_behaviour("example.com", "timeout")
    dns_settings.set_behaviour("*.in-addr.arpa", "servfail")
    domain_check_run(domain=domain)

    statuses = _statuses(domain)
    assert statuses == {
        "spf": "unknown",
        "dkim": "unknown",
        "dmarc": "unknown",
        "mx": "unknown",
        "ptr": "unknown",
    }
    assert "retry" in DomainCheck.objects.get(domain=domain, name="dmarc").explanation
    assert SendingDomain.objects.get(pk=domain.pk).status == "unknown"


@pytest.mark.django_db
def test_it_lists_every_record_to_publish_in_the_zone_snippet(make_domain, pool_a, dns_settings):
    domain = make_domain("example.com", expected_dmarc_policy="reject", key_bits=2048)
    key = domain.keys.get()

    zone = zone_snippet(domain)

    assert 'bounce.example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all"' in zone
    assert key.txt_record in zone
    assert f'{key.selector}._domainkey.example.com. 3600 IN TXT ( "v=DKIM1; k=rsa; p=' in zone
    assert '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject"' in zone
    assert "bounce.example.com. 3600 IN MX 10 pmta1.example.net." in zone
    # A 2048-bit key does not fit one TXT character-string: it is split, and every string fits.
    dkim_line = next(line for line in zone.splitlines() if "_domainkey" in line)
    assert dkim_line.count('"') == 4
    for line in zone.splitlines():
        for part in line.split('"')[1::2]:
            assert len(part.encode()) <= 255
