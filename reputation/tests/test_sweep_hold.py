"""A new listing on a critical list puts the IP on hold; clearing it does not resume the IP."""

import pytest

from core.models import AuditEvent
from ips.models import IPStatus
from reputation.models import Listing
from reputation.services import sweep_run

pytestmark = pytest.mark.django_db


def test_it_puts_the_ip_on_hold_and_leaves_it_there_when_the_listing_clears(inventory, dnsbl):
    dnsbl.list("192.0.2.10", "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    ip = inventory.ip_a
    ip.refresh_from_db()
    assert ip.status == IPStatus.PAUSED and ip.paused_from == IPStatus.ACTIVE
    assert ip.status_reason.startswith("listed on Spamhaus ZEN (SBL")
    assert Listing.objects.get(target="192.0.2.10").hold_applied
    pause = AuditEvent.objects.get(action="ip.status", object_id=str(ip.pk))
    assert pause.actor_label == "system: dnsbl sweep"

    dnsbl.unlist("192.0.2.10", "zen.spamhaus.org")
    sweep_run()
    ip.refresh_from_db()
    assert Listing.objects.get(target="192.0.2.10").cleared_at is not None
    assert ip.status == IPStatus.PAUSED  # an operator decides when it sends again
    assert AuditEvent.objects.filter(action="ip.status").count() == 1


def test_a_standing_listing_does_not_pause_again_after_an_operator_resumed(inventory, dnsbl):
    from ips.services import ip_resume

    dnsbl.list("192.0.2.10", "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    ip = inventory.ip_a
    ip.refresh_from_db()
    ip_resume(ip=ip, by="op", reason="delisting requested")
    sweep_run()
    ip.refresh_from_db()
    assert ip.status == IPStatus.ACTIVE


def test_a_listing_on_a_major_list_or_an_error_puts_nothing_on_hold(inventory, dnsbl):
    dnsbl.list("192.0.2.10", "dnsbl-1.uceprotect.net", "127.0.0.2")  # major
    dnsbl.list("192.0.2.20", "zen.spamhaus.org", "127.255.255.254")  # an error code on a critical list
    sweep_run()
    for ip in (inventory.ip_a, inventory.ip_b):
        ip.refresh_from_db()
        assert ip.status == IPStatus.ACTIVE


def test_the_hold_can_be_switched_off(inventory, dnsbl, settings):
    settings.DNSBL_HOLD_ON_CRITICAL = False
    dnsbl.list("192.0.2.10", "b.barracudacentral.org", "127.0.0.2")
    sweep_run()
    inventory.ip_a.refresh_from_db()
    assert inventory.ip_a.status == IPStatus.ACTIVE
    assert not Listing.objects.get(target="192.0.2.10").hold_applied


def test_an_ip_already_paused_is_left_as_it_is(inventory, dnsbl):
    from ips.services import ip_pause

    ip_pause(ip=inventory.ip_a, by="op", reason="maintenance")
    dnsbl.list("192.0.2.10", "bl.spamcop.net", "127.0.0.2")
    sweep_run()
    inventory.ip_a.refresh_from_db()
    assert inventory.ip_a.status_reason == "maintenance"
    assert not Listing.objects.get(target="192.0.2.10").hold_applied
