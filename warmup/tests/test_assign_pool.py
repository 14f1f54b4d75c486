"""A pool's new IPs start warming together, through the service: all of them or none."""

import pytest

from ips.models import IPStatus
from warmup.models import IPWarmup, WarmupPlan
from warmup.services import WarmupError, warmup_assign_pool
from warmup.tests.conftest import make_ip


def test_it_starts_every_new_ip_of_the_pool(pool_a, plan):
    make_ip("192.0.2.1", pool_a)
    make_ip("192.0.2.2", pool_a)
    make_ip("192.0.2.3", pool_a, status=IPStatus.ACTIVE)  # already sending: left alone

    assert warmup_assign_pool(pool=pool_a, plan=plan, by="test") == 2
    assert sorted(IPWarmup.objects.values_list("ip__address", flat=True)) == ["192.0.2.1", "192.0.2.2"]


@pytest.mark.django_db
def test_it_starts_none_when_the_plan_cannot_start(pool_a):
    make_ip("192.0.2.1", pool_a)
    empty = WarmupPlan.objects.create(name="no steps")

    with pytest.raises(WarmupError):
        warmup_assign_pool(pool=pool_a, plan=empty, by="test")
    assert not IPWarmup.objects.exists()


def test_the_pool_page_says_why_nothing_started(client, operator, pool_a):
    make_ip("192.0.2.1", pool_a)
    empty = WarmupPlan.objects.create(name="no steps")
    client.force_login(operator)

    response = client.post(f"/warmup/pools/{pool_a.pk}/assign/", {"plan": empty.pk}, follow=True)

    assert response.status_code == 200
    assert "has no steps" in response.content.decode()
    assert not IPWarmup.objects.exists()
