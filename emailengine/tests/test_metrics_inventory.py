"""Per-IP inventory, blocklist severities and beat job intervals on /metrics."""

import pytest
from celery.schedules import crontab
from prometheus_client.parser import text_string_to_metric_families

from emailengine.celery import app
from ips.models import IPStatus
from ips.tests.factories import IPAddressFactory, IPPoolFactory, MtaServerFactory
from reputation.models import Blocklist

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, frozenset], float]:
    body = client.get("/metrics").content.decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def test_it_has_one_info_series_per_ip(client, tenant_a):
    server = MtaServerFactory(name="pmta-info")
    pool = IPPoolFactory(name="a-pool", server=server, tenant=tenant_a)
    IPAddressFactory(address="192.0.2.10", pool=pool, server=server, status=IPStatus.WARMING)
    IPAddressFactory(address="192.0.2.11", pool=None, server=server, status=IPStatus.NEW)

    m = scrape(client)
    info = {dict(labels)["ip"]: dict(labels) for name, labels in m if name == "emailengine_ip_info"}
    assert info["192.0.2.10"] == {
        "ip": "192.0.2.10",
        "status": "warming",
        "server": "pmta-info",
        "pool": "a-pool",
        "tenant": "tenant-a",
    }
    assert info["192.0.2.11"]["pool"] == "" and info["192.0.2.11"]["tenant"] == "(none)"


def test_it_labels_each_enabled_blocklist_with_its_severity(client):
    blocklist = Blocklist.objects.create(
        key="test-critical", name="Test", zone="bl.test.invalid", kind="ip", severity="critical"
    )
    Blocklist.objects.create(
        key="test-off", name="Off", zone="off.test.invalid", kind="ip", severity="minor", enabled=False
    )
    m = scrape(client)
    labels = frozenset({"list": blocklist.key, "severity": "critical", "kind": "ip", "scope": "ip"}.items())
    assert m[("emailengine_blocklist_info", labels)] == 1
    assert not any(dict(lbl).get("list") == "test-off" for _, lbl in m)


def test_it_exposes_every_beat_jobs_interval(client, monkeypatch):
    schedule = dict(app.conf.beat_schedule)
    schedule["test-every-minute"] = {"task": "x.every_minute", "schedule": 60.0}
    schedule["test-nightly"] = {"task": "x.nightly", "schedule": crontab(minute=0, hour=2)}
    monkeypatch.setitem(app.conf, "beat_schedule", schedule)

    m = scrape(client)
    interval = {
        dict(lbl)["job"]: v
        for name, lbl in m
        if name == "emailengine_job_interval_seconds"
        for v in [m[(name, lbl)]]
    }
    assert interval["test-every-minute"] == 60
    assert interval["test-nightly"] == 86400
    assert set(app.conf.beat_schedule) <= set(interval)
