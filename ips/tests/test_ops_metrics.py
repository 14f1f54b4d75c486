"""The ips gauges on GET /metrics, computed from stored health polls in a constant number of queries."""

import pytest
from prometheus_client.core import REGISTRY

from ips.metrics import MtaCollector, register_collector
from ips.models import IPAddress, IPStatus, MtaServer

pytestmark = pytest.mark.django_db


def _server(name, **health):
    return MtaServer.objects.create(name=name, webhook_token_hash=name, **health)


def _ip(server, address, status):
    return IPAddress.objects.create(
        address=address, server=server, status=status, vmta_name=IPAddress.default_vmta_name(address)
    )


@pytest.fixture
def servers():
    up = _server(
        "mta-up",
        health_up=True,
        health_queued_rcp=805,
        health_smtp_out_conn=11,
        health_backoff_queues=[{"name": "gmail.com/v1"}, {"name": "aol.com/v1"}],
    )
    down = _server("mta-down", health_up=False, health_error="cannot connect")
    never = _server("mta-never")
    _ip(up, "192.0.2.1", IPStatus.ACTIVE)
    _ip(up, "192.0.2.2", IPStatus.ACTIVE)
    _ip(down, "192.0.2.3", IPStatus.PAUSED)
    _ip(never, "2001:db8::1", IPStatus.WARMING)
    return up, down, never


def test_it_exposes_the_mta_and_ip_gauges(client, servers):
    body = client.get("/metrics").content.decode()
    assert 'emailengine_mta_up{server="mta-up"} 1.0' in body
    assert 'emailengine_mta_up{server="mta-down"} 0.0' in body
    assert 'emailengine_mta_up{server="mta-never"}' not in body  # never polled: absent, not down
    assert 'emailengine_mta_queued_recipients{server="mta-up"} 805.0' in body
    assert 'emailengine_mta_smtp_out_connections{server="mta-up"} 11.0' in body
    assert 'emailengine_mta_backoff_queues{server="mta-up"} 2.0' in body
    assert 'emailengine_mta_queued_recipients{server="mta-down"}' not in body
    assert 'emailengine_ips{status="active"} 2.0' in body
    assert 'emailengine_ips{status="paused"} 1.0' in body
    assert 'emailengine_ips{status="warming"} 1.0' in body
    assert 'emailengine_ips{status="retired"} 0.0' in body


def test_it_costs_three_queries_whatever_the_inventory(servers, django_assert_num_queries):
    with django_assert_num_queries(3):
        list(MtaCollector().collect())
    for n in range(20):
        server = _server(f"extra-{n}", health_up=True, health_queued_rcp=n)
        _ip(server, f"198.51.100.{n + 1}", IPStatus.ACTIVE)
    with django_assert_num_queries(3):
        families = {f.name: f for f in MtaCollector().collect()}
    assert len(families["emailengine_mta_up"].samples) == 22


def test_it_is_registered_once():
    register_collector()
    register_collector()
    collectors = [c for c in REGISTRY._collector_to_names if isinstance(c, MtaCollector)]
    assert len(collectors) == 1


def test_it_exposes_each_servers_config_delivery_state(client, servers):
    from datetime import timedelta

    from django.utils import timezone

    from ips.models import PmtaCommand, PmtaConfigRender

    up, down, _never = servers
    seen = timezone.now() - timedelta(seconds=40)
    PmtaConfigRender.objects.create(server=up, created_by="t", files={}, digest="d1", version=1)
    PmtaConfigRender.objects.create(server=up, created_by="t", files={}, digest="d2", version=2)
    PmtaConfigRender.objects.create(server=down, created_by="t", files={}, digest="d1", version=1)
    MtaServer.objects.filter(pk=up.pk).update(
        config_applied_version=1,
        config_applied_at=seen,
        agent_last_seen=seen,
        agent_last_error="version 2: x",
    )
    MtaServer.objects.filter(pk=down.pk).update(config_applied_version=1, agent_last_seen=seen)
    PmtaCommand.objects.create(server=up, args=["pause", "queue", "*/v1"], created_by="t")
    body = client.get("/metrics").content.decode()
    assert 'emailengine_pmta_config_desired_version{server="mta-up"} 2.0' in body
    assert 'emailengine_pmta_config_applied_version{server="mta-up"} 1.0' in body
    assert 'emailengine_pmta_config_drift{server="mta-up"} 1.0' in body
    assert 'emailengine_pmta_config_drift{server="mta-down"} 0.0' in body
    assert 'emailengine_pmta_agent_error{server="mta-up"} 1.0' in body
    assert 'emailengine_pmta_commands_pending{server="mta-up"} 1.0' in body
    line = next(
        x
        for x in body.splitlines()
        if x.startswith('emailengine_pmta_agent_last_seen_timestamp_seconds{server="mta-up"}')
    )
    assert abs(float(line.split()[-1]) - seen.timestamp()) < 0.01
    assert 'emailengine_pmta_agent_last_seen_timestamp_seconds{server="mta-never"} 0.0' in body
    assert 'emailengine_pmta_config_desired_version{server="mta-never"}' not in body
