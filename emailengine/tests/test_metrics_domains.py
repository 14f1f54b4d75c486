"""DNS check state per sending domain and check on /metrics, from the stored results."""

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from domains.models import CheckName, CheckStatus, DomainCheck, SendingDomain

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, frozenset], float]:
    body = client.get("/metrics").content.decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _domain(tenant, name: str, **checks: str) -> SendingDomain:
    domain = SendingDomain.objects.create(tenant=tenant, name=name, return_path_domain=f"bounce.{name}")
    for check, status in checks.items():
        DomainCheck.objects.create(
            domain=domain, name=check, status=status, checked_at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
        )
    return domain


def _labels(domain: str, tenant: str, check: str, status: str) -> frozenset:
    return frozenset({"domain": domain, "tenant": tenant, "check": check, "status": status}.items())


def test_it_exposes_the_current_status_of_each_check(client, tenant_a, tenant_b):
    _domain(
        tenant_a, "send.example.com", spf=CheckStatus.OK, dkim=CheckStatus.INVALID, dmarc=CheckStatus.MISSING
    )
    _domain(tenant_b, "news.example.net", mx=CheckStatus.UNKNOWN)
    _domain(tenant_b, "unchecked.example.net")

    m = scrape(client)
    status = "emailengine_domain_check_status"
    assert m[(status, _labels("send.example.com", "tenant-a", CheckName.SPF, "ok"))] == 1
    assert m[(status, _labels("send.example.com", "tenant-a", CheckName.DKIM, "invalid"))] == 1
    assert m[(status, _labels("send.example.com", "tenant-a", CheckName.DMARC, "missing"))] == 1
    assert m[(status, _labels("news.example.net", "tenant-b", CheckName.MX, "unknown"))] == 1
    # Only the current status is a series; other statuses are absent rather than 0.
    assert (status, _labels("send.example.com", "tenant-a", CheckName.SPF, "invalid")) not in m
    assert not any(dict(labels).get("domain") == "unchecked.example.net" for _, labels in m)
    checked = m[
        (
            "emailengine_domain_check_timestamp_seconds",
            frozenset({"domain": "send.example.com", "check": "spf"}.items()),
        )
    ]
    assert checked == datetime(2025, 7, 1, 12, 0, tzinfo=UTC).timestamp()


def test_it_follows_a_status_change(client, tenant_a):
    domain = _domain(tenant_a, "flip.example.com", spf=CheckStatus.MISSING)
    DomainCheck.objects.filter(domain=domain, name="spf").update(status=CheckStatus.OK)

    m = scrape(client)
    assert m[("emailengine_domain_check_status", _labels("flip.example.com", "tenant-a", "spf", "ok"))] == 1
    assert (
        "emailengine_domain_check_status",
        _labels("flip.example.com", "tenant-a", "spf", "missing"),
    ) not in m
