"""Issue 16: each list's own error answers, reputation shown as reputation, listing scope, and the circuit
breaker that keeps one misbehaving list from pausing the fleet."""

import pytest

from core.models import AuditEvent
from ips.models import IPAddress, IPStatus
from reputation.dnsbl.catalogue import by_key
from reputation.dnsbl.engine import classify
from reputation.models import Blocklist, CheckState, Listing
from reputation.services import sweep_run


@pytest.mark.parametrize("code", ["127.255.255.252", "127.255.255.250", "127.255.255.251", "127.255.255.1"])
def test_every_answer_in_spamhaus_error_range_is_an_error(code):
    for key in ("spamhaus-zen", "spamhaus-dbl"):
        result = classify(by_key(key), [code])
        assert result.status == "error", (key, code)


def test_a_dqs_key_error_names_the_key():
    result = classify(by_key("spamhaus-zen"), ["127.255.255.250"])
    assert "DQS key" in result.meaning and "127.255.255.0/24" in result.meaning


def test_dbl_ip_query_error_and_uribl_refusal_are_errors():
    assert classify(by_key("spamhaus-dbl"), ["127.0.1.255"]).status == "error"
    refused = classify(by_key("uribl"), ["127.0.0.1"])
    assert refused.status == "error" and "refused" in refused.meaning


@pytest.mark.parametrize("code", ["127.0.0.10", "127.0.0.12", "127.0.0.15", "127.0.0.20"])
def test_mailspike_rep_is_a_reputation_grade_never_a_listing(code):
    result = classify(by_key("mailspike-rep"), [code])
    assert result.status == "reputation"
    assert "Mailspike reputation" in result.meaning


def test_the_catalogue_names_each_lists_scope_and_source():
    assert by_key("uceprotect-l1").scope == "ip"
    assert by_key("uceprotect-l2").scope == "subnet"
    assert by_key("uceprotect-l3").scope == "asn"
    for key in ("spamhaus-zen", "spamhaus-dbl", "barracuda", "spamcop", "mailspike-rep", "uribl", "surbl"):
        assert by_key(key).source_url.startswith("https://"), key


@pytest.mark.django_db
def test_a_reputation_grade_opens_no_listing_and_holds_nothing(inventory, dnsbl):
    Blocklist.objects.filter(key="mailspike-rep").update(severity="critical")
    dnsbl.list("192.0.2.10", "rep.mailspike.net", "127.0.0.11")
    sweep_run()
    assert not Listing.objects.filter(target="192.0.2.10").exists()
    state = CheckState.objects.get(target="192.0.2.10", blocklist__key="mailspike-rep")
    assert state.status == "reputation" and state.code == "127.0.0.11"
    inventory.ip_a.refresh_from_db()
    assert inventory.ip_a.status == IPStatus.ACTIVE


@pytest.mark.django_db
def test_a_subnet_or_asn_listing_never_holds_an_ip_by_itself(inventory, dnsbl):
    # Even when an operator marks UCEPROTECT L2/L3 critical, a /24 or ASN listing is context only.
    Blocklist.objects.filter(key__in=["uceprotect-l2", "uceprotect-l3"]).update(severity="critical")
    dnsbl.list("192.0.2.10", "dnsbl-2.uceprotect.net")
    dnsbl.list("192.0.2.20", "dnsbl-3.uceprotect.net")
    sweep_run()
    assert Listing.objects.filter(blocklist__key__in=["uceprotect-l2", "uceprotect-l3"]).count() == 2
    for ip in (inventory.ip_a, inventory.ip_b):
        ip.refresh_from_db()
        assert ip.status == IPStatus.ACTIVE


@pytest.fixture
def fleet(inventory):
    server = inventory.ip_a.server
    pool = inventory.ip_a.pool
    extra = [
        IPAddress.objects.create(
            address=f"192.0.2.{n}",
            server=server,
            pool=pool,
            status=IPStatus.ACTIVE,
            vmta_name=IPAddress.default_vmta_name(f"192.0.2.{n}"),
        )
        for n in (11, 12, 13, 14)
    ]
    return [inventory.ip_a, inventory.ip_b, *extra]


@pytest.mark.django_db
def test_one_list_reporting_most_of_the_fleet_trips_the_breaker_and_pauses_nothing(fleet, dnsbl, settings):
    settings.DNSBL_BREAKER_SHARE = 0.5
    settings.DNSBL_BREAKER_MIN_TARGETS = 4
    # A DQS key problem answered as an undocumented listing code for every IP.
    for ip in fleet:
        dnsbl.list(ip.address, "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    for ip in fleet:
        ip.refresh_from_db()
        assert ip.status == IPStatus.ACTIVE
    zen = Blocklist.objects.get(key="spamhaus-zen")
    assert zen.breaker_tripped_at is not None
    assert "listed 6 of 6 swept IPs (100%)" in zen.breaker_detail
    assert AuditEvent.objects.filter(action="dnsbl.breaker_tripped").count() == 1
    assert Listing.objects.filter(blocklist=zen).count() == 6  # recorded, just not acted on


@pytest.mark.django_db
def test_the_breaker_resets_when_the_list_is_back_under_the_share(fleet, dnsbl, settings):
    for ip in fleet:
        dnsbl.list(ip.address, "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    for ip in fleet[1:]:
        dnsbl.unlist(ip.address, "zen.spamhaus.org")
    sweep_run()
    zen = Blocklist.objects.get(key="spamhaus-zen")
    assert zen.breaker_tripped_at is None
    assert AuditEvent.objects.filter(action="dnsbl.breaker_reset").count() == 1


@pytest.mark.django_db
def test_a_single_listing_in_a_large_fleet_still_holds(fleet, dnsbl):
    dnsbl.list(fleet[0].address, "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    fleet[0].refresh_from_db()
    assert fleet[0].status == IPStatus.PAUSED


@pytest.mark.django_db
def test_the_breaker_is_a_metric_and_the_catalogue_page_shows_scope_and_source(
    fleet, dnsbl, client, login, operator
):
    for ip in fleet:
        dnsbl.list(ip.address, "zen.spamhaus.org", "127.0.0.2")
    sweep_run()
    text = client.get("/metrics").content.decode()
    assert 'emailengine_dnsbl_breaker_tripped{list="spamhaus-zen"} 1.0' in text
    assert 'emailengine_dnsbl_breaker_tripped{list="barracuda"} 0.0' in text
    page = login(operator).get("/reputation/blocklists/").content.decode()
    assert "breaker tripped" in page
    assert "Its network (ASN)" in page and "reputation scale" in page
    assert "https://docs.spamhaus.com/" in page
