"""A stored sweep against a real DNS server on 127.0.0.1: listings, their history, events on changes only."""

import pytest
from django.db import connection

from core.models import AuditEvent
from reputation.models import CheckState, Listing, Sweep
from reputation.services import sweep_run

pytestmark = pytest.mark.django_db

ZEN = "zen.spamhaus.org"
SPAMCOP = "bl.spamcop.net"
DBL = "dbl.spamhaus.org"


def events(action):
    return AuditEvent.objects.filter(action=action)


def state(target, key):
    return CheckState.objects.get(target=target, blocklist__key=key)


def test_it_sweeps_every_active_ip_and_domain_against_lists_of_its_kind(inventory, dnsbl):
    record = sweep_run()
    assert record.finished_at is not None and record.duration is not None
    targets = set(CheckState.objects.values_list("target", flat=True))
    assert targets == {"192.0.2.10", "192.0.2.20", "a-sender.example", "b-sender.example"}
    assert not CheckState.objects.filter(target="192.0.2.30").exists()  # retired
    assert set(
        CheckState.objects.filter(target="a-sender.example").values_list("blocklist__kind", flat=True)
    ) == {"domain"}
    assert record.targets == 4 and record.queries == CheckState.objects.count()
    assert record.listed == record.errors == 0
    assert not Listing.objects.exists() and not events("dnsbl.listed").exists()


def test_it_records_a_listing_with_the_meaning_of_its_code(inventory, dnsbl):
    dnsbl.list("192.0.2.10", ZEN, "127.0.0.4")
    dnsbl.list("a-sender.example", DBL, "127.0.1.2")
    record = sweep_run()
    listing = Listing.objects.get(target="192.0.2.10")
    assert (listing.blocklist.key, listing.code) == ("spamhaus-zen", "127.0.0.4")
    assert listing.meaning.startswith("XBL")
    assert listing.ip == inventory.ip_a and listing.tenant_id == inventory.ip_a.pool.tenant_id
    domain_listing = Listing.objects.get(target="a-sender.example")
    assert domain_listing.domain == inventory.dom_a and domain_listing.meaning == "DBL: spam domain"
    assert state("192.0.2.10", "spamhaus-zen").status == "listed"
    assert state("192.0.2.20", "spamhaus-zen").status == "clean"
    assert (record.listed, record.new_listings) == (2, 2)
    event = events("dnsbl.listed").get(object_id=str(listing.pk))
    assert event.actor_label == "system: dnsbl sweep" and event.tenant_id == inventory.ip_a.pool.tenant_id


def test_it_calls_an_unknown_code_listed_unknown(inventory, dnsbl):
    dnsbl.list("192.0.2.10", SPAMCOP, "127.0.0.42")
    sweep_run()
    listing = Listing.objects.get(target="192.0.2.10", blocklist__key="spamcop")
    assert listing.meaning == "listed (unknown code 127.0.0.42)"


def test_it_alerts_on_changes_only(inventory, dnsbl):
    dnsbl.list("192.0.2.20", SPAMCOP)
    sweep_run()
    first = Listing.objects.get(target="192.0.2.20")
    assert events("dnsbl.listed").count() == 1

    # Still listed: the same listing, seen again, no new alert.
    sweep_run()
    again = Listing.objects.get(target="192.0.2.20")
    assert again.pk == first.pk and again.last_seen > first.last_seen and again.cleared_at is None
    assert events("dnsbl.listed").count() == 1
    assert not events("dnsbl.cleared").exists()

    # Cleared: the listing is closed and one event says so.
    dnsbl.unlist("192.0.2.20", SPAMCOP)
    record = sweep_run()
    cleared = Listing.objects.get(pk=first.pk)
    assert cleared.cleared_at is not None and record.cleared == 1
    assert events("dnsbl.cleared").count() == 1
    assert state("192.0.2.20", "spamcop").status == "clean"

    # Clean again: nothing more to say.
    sweep_run()
    assert events("dnsbl.cleared").count() == 1 and events("dnsbl.listed").count() == 1

    # Listed again later: a new period in the history.
    dnsbl.list("192.0.2.20", SPAMCOP)
    sweep_run()
    assert Listing.objects.filter(target="192.0.2.20").count() == 2
    assert events("dnsbl.listed").count() == 2


def test_it_never_reports_a_list_error_code_as_listed(inventory, dnsbl):
    dnsbl.list("192.0.2.10", ZEN, "127.255.255.254")
    dnsbl.list("a-sender.example", "multi.uribl.com", "127.0.0.1")
    dnsbl.list("a-sender.example", DBL, "127.0.1.255")
    record = sweep_run()
    assert not Listing.objects.exists()
    zen = state("192.0.2.10", "spamhaus-zen")
    assert (zen.status, zen.code) == ("error", "127.255.255.254")
    assert "public/open resolvers" in zen.meaning
    assert state("a-sender.example", "uribl").status == "error"
    assert state("a-sender.example", "spamhaus-dbl").status == "error"
    assert record.errors == 3 and record.listed == 0


@pytest.mark.parametrize("failure", ["servfail", "refused", "timeout", "error-code"])
def test_an_error_neither_clears_nor_opens_a_listing(inventory, dnsbl, failure):
    dnsbl.list("192.0.2.10", ZEN, "127.0.0.2")
    sweep_run()
    listing = Listing.objects.get(target="192.0.2.10")

    dnsbl.unlist("192.0.2.10", ZEN)
    if failure == "error-code":
        dnsbl.list("192.0.2.10", ZEN, "127.255.255.255")
    else:
        dnsbl.behave("192.0.2.10", ZEN, failure)
    # And a target never listed hits an error too: it must not become a listing either.
    dnsbl.behave("192.0.2.20", ZEN, "servfail")
    sweep_run()

    listing.refresh_from_db()
    assert listing.cleared_at is None
    assert Listing.objects.filter(target="192.0.2.10").count() == 1
    assert not Listing.objects.filter(target="192.0.2.20").exists()
    assert state("192.0.2.10", "spamhaus-zen").status == "error"
    assert state("192.0.2.20", "spamhaus-zen").status == "error"
    assert not events("dnsbl.cleared").exists()


def test_a_code_change_is_one_event_on_the_same_listing(inventory, dnsbl):
    dnsbl.list("192.0.2.10", ZEN, "127.0.0.3")
    sweep_run()
    dnsbl.unlist("192.0.2.10", ZEN)
    dnsbl.list("192.0.2.10", ZEN, "127.0.0.2")
    sweep_run()
    listing = Listing.objects.get(target="192.0.2.10")
    assert listing.code == "127.0.0.2" and listing.meaning.startswith("SBL:")
    assert events("dnsbl.changed").count() == 1 and events("dnsbl.listed").count() == 1


def test_it_skips_disabled_lists_and_leaves_their_listings_alone(inventory, dnsbl):
    from reputation.models import Blocklist

    dnsbl.list("192.0.2.10", SPAMCOP)
    sweep_run()
    Blocklist.objects.filter(key="spamcop").update(enabled=False)
    dnsbl.unlist("192.0.2.10", SPAMCOP)
    sweep_run()
    assert Listing.objects.get(target="192.0.2.10").cleared_at is None


def test_it_sweeps_ipv6_by_reversed_nibbles(inventory, dnsbl):
    from ips.models import IPAddress

    ip6 = IPAddress.objects.create(
        address="2001:db8::25",
        server=inventory.ip_a.server,
        pool=inventory.ip_a.pool,
        vmta_name="vmta6-test",
        status="active",
    )
    dnsbl.list("2001:db8::25", SPAMCOP)
    sweep_run()
    listing = Listing.objects.get(blocklist__key="spamcop")
    assert listing.ip == ip6 and listing.target == "2001:db8::25"


def test_it_queries_the_dqs_zone_with_a_key_and_never_shows_the_key(inventory, dnsbl):
    from reputation.models import Blocklist

    zen = Blocklist.objects.get(key="spamhaus-zen")
    zen.dqs_key = "secretkey123"
    zen.save()
    dnsbl.list("192.0.2.10", "secretkey123.zen.dq.spamhaus.net", "127.0.0.2")
    sweep_run()
    listing = Listing.objects.get(target="192.0.2.10")
    assert listing.blocklist == zen
    assert "secretkey123" not in state("192.0.2.10", "spamhaus-zen").meaning
    with connection.cursor() as cursor:
        cursor.execute("SELECT dqs_key FROM reputation_blocklist WHERE id = %s", [zen.pk])
        (raw,) = cursor.fetchone()
    assert raw and "secretkey123" not in raw  # encrypted at rest


def test_a_failed_sweep_is_recorded(inventory, dnsbl, settings):
    settings.DNS_NAMESERVERS = ["not-an-address:xx"]
    with pytest.raises(Exception):  # noqa: B017
        sweep_run()
    record = Sweep.objects.get()
    assert record.failure and record.finished_at is None
