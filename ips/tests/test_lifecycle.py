"""The IP lifecycle: every move in TRANSITIONS is allowed and audited, every other one is refused."""

import itertools

import pytest

from core.models import AuditEvent
from ips import services
from ips.models import TRANSITIONS, IPStatus
from ips.services import TransitionError
from ips.tests.factories import IPAddressFactory, IPPoolFactory

STATUSES = [s.value for s in IPStatus]
ALLOWED = sorted((a, b) for a, targets in TRANSITIONS.items() for b in targets)
REFUSED = sorted((a, b) for a, b in itertools.permutations(STATUSES, 2) if b not in TRANSITIONS[a])


def test_it_covers_every_pair_of_statuses():
    assert len(ALLOWED) + len(REFUSED) == len(STATUSES) * (len(STATUSES) - 1)
    assert REFUSED, "some moves must be refused (retired cannot go straight back to sending)"


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_it_allows_and_audits_each_listed_transition(start, to, tenant_a):
    ip = IPAddressFactory(pool=IPPoolFactory(tenant=tenant_a), status=start)
    services.ip_set_status(ip=ip, to=to, by="system: test", reason=f"because {start}->{to}")
    ip.refresh_from_db()
    assert ip.status == to
    assert ip.status_reason == f"because {start}->{to}"
    assert ip.paused_from == (start if to == IPStatus.PAUSED else "")
    event = AuditEvent.objects.get(action="ip.status")
    assert (event.before, event.after) == ({"status": start}, {"status": to})
    assert event.reason == f"because {start}->{to}"
    assert event.object_type == "ips.ipaddress" and event.object_id == str(ip.pk)
    assert event.tenant_id == tenant_a.pk
    assert event.actor_label == "system: test"


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), REFUSED)
def test_it_refuses_each_unlisted_transition_without_a_trace(start, to):
    ip = IPAddressFactory(status=start)
    with pytest.raises(TransitionError):
        services.ip_set_status(ip=ip, to=to, by="system: test", reason="nope")
    ip.refresh_from_db()
    assert ip.status == start
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_treats_a_move_to_the_same_status_as_a_no_op():
    ip = IPAddressFactory(status=IPStatus.ACTIVE)
    services.ip_set_status(ip=ip, to=IPStatus.ACTIVE, by="system: test")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("start", [IPStatus.NEW, IPStatus.WARMING, IPStatus.ACTIVE])
def test_it_resumes_to_the_status_the_ip_was_paused_from(start):
    ip = IPAddressFactory(status=start)
    services.ip_pause(ip=ip, by="system: test", reason="complaints spike")
    assert (ip.status, ip.paused_from) == (IPStatus.PAUSED, start)
    services.ip_resume(ip=ip, by="system: test", reason="fixed")
    ip.refresh_from_db()
    assert ip.status == start and ip.paused_from == ""
    reasons = list(AuditEvent.objects.order_by("id").values_list("reason", flat=True))
    assert reasons == ["complaints spike", "fixed"]


@pytest.mark.django_db
def test_it_resumes_to_active_when_the_origin_is_unknown():
    ip = IPAddressFactory(status=IPStatus.PAUSED, paused_from="")
    services.ip_resume(ip=ip, by="system: test")
    assert ip.status == IPStatus.ACTIVE
    assert AuditEvent.objects.get().reason == "resumed"


@pytest.mark.django_db
@pytest.mark.parametrize("start", [IPStatus.NEW, IPStatus.WARMING, IPStatus.ACTIVE, IPStatus.RETIRED])
def test_it_refuses_to_resume_an_ip_that_is_not_paused(start):
    ip = IPAddressFactory(status=start)
    with pytest.raises(TransitionError, match="not paused"):
        services.ip_resume(ip=ip, by="system: test")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_it_only_lets_warming_and_active_ips_send():
    sending = {s for s in STATUSES if IPAddressFactory(status=s).can_send()}
    assert sending == {IPStatus.WARMING, IPStatus.ACTIVE}
