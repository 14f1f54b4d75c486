"""sweep_dnsbl: a stored inventory sweep, or an ad-hoc lookup of any IP or domain that stores nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from reputation.models import CheckState, Listing, Sweep

pytestmark = pytest.mark.django_db


def lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_it_sweeps_the_inventory_and_prints_every_result_as_json(inventory, dnsbl, capsys):
    dnsbl.list("192.0.2.10", "bl.spamcop.net", "127.0.0.2")
    dnsbl.list("192.0.2.20", "zen.spamhaus.org", "127.255.255.254")
    call_command("sweep_dnsbl", "--json")
    results = lines(capsys)
    assert {r["target"] for r in results} == {
        "192.0.2.10",
        "192.0.2.20",
        "a-sender.example",
        "b-sender.example",
    }
    assert all(set(r) == {"target", "list", "zone", "status", "code", "meaning"} for r in results)
    by_pair = {(r["target"], r["list"]): r for r in results}
    listed = by_pair[("192.0.2.10", "spamcop")]
    assert (listed["status"], listed["code"], listed["zone"]) == ("listed", "127.0.0.2", "bl.spamcop.net")
    assert listed["meaning"] == "listed on SpamCop (spam reports)"
    assert by_pair[("192.0.2.20", "spamhaus-zen")]["status"] == "error"
    assert by_pair[("a-sender.example", "spamhaus-dbl")]["status"] == "clean"
    assert {r["status"] for r in results} == {"listed", "clean", "error"}
    assert Sweep.objects.get().trigger == "command"
    assert Listing.objects.get().target == "192.0.2.10"


def test_an_adhoc_target_outside_the_inventory_is_checked_and_stored_nowhere(inventory, dnsbl, capsys):
    dnsbl.list("203.0.113.99", "b.barracudacentral.org", "127.0.0.2")
    dnsbl.list("elsewhere.example", "multi.surbl.org", "127.0.0.72")
    call_command("sweep_dnsbl", "--target", "203.0.113.99", "Elsewhere.Example.", "--json")
    results = lines(capsys)
    assert {r["target"] for r in results} == {"203.0.113.99", "elsewhere.example"}
    barracuda = next(r for r in results if r["list"] == "barracuda")
    assert barracuda["status"] == "listed"
    surbl = next(r for r in results if r["list"] == "surbl")
    assert (surbl["status"], surbl["meaning"]) == ("listed", "SURBL: phishing, SURBL: abuse (spam)")
    assert all(
        r["target"] != "elsewhere.example" or r["list"] not in ("spamcop", "barracuda") for r in results
    )
    assert not Sweep.objects.exists() and not Listing.objects.exists() and not CheckState.objects.exists()


def test_it_prints_a_readable_table_without_json(inventory, dnsbl, capsys):
    call_command("sweep_dnsbl", "--target", "192.0.2.10")
    out = capsys.readouterr().out
    assert "192.0.2.10" in out and "zen.spamhaus.org" in out and "clean" in out
    assert not Listing.objects.exists()


def test_it_refuses_a_target_that_is_neither_an_ip_nor_a_domain(db):
    with pytest.raises(CommandError, match="neither an IP address nor a domain"):
        call_command("sweep_dnsbl", "--target", "not a target!")


def test_it_fails_loudly_when_the_sweep_cannot_run(inventory, dnsbl, settings):
    settings.DNS_NAMESERVERS = ["nonsense:port"]
    with pytest.raises(CommandError, match="the sweep failed"):
        call_command("sweep_dnsbl", "--json")
