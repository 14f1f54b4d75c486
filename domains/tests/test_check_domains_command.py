"""check_domains: inventory domains are checked and stored; other names are checked like a public checker."""

import json

import pytest
from django.core.management import CommandError, call_command

from domains.dkim_keys import dkim_txt_value, generate_keypair
from domains.models import DomainCheck
from domains.tests.dnsdata import publish_all


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


@pytest.mark.django_db
def test_it_checks_every_inventory_domain_and_stores_the_results(make_domain, pool_a, dns_settings, capsys):
    good = make_domain("good.example")
    make_domain("bare.example")
    publish_all(dns_settings, good)

    call_command("check_domains", "--json")

    rows = _lines(capsys)
    by_key = {(row["domain"], row["check"]): row for row in rows}
    assert {key[0] for key in by_key} == {"good.example", "bare.example"}
    assert {by_key[("good.example", check)]["status"] for check in ("spf", "dkim", "dmarc", "mx", "ptr")} == {
        "ok"
    }
    assert by_key[("bare.example", "dmarc")]["status"] == "missing"
    assert by_key[("bare.example", "dmarc")]["expected_record"].startswith("_dmarc.bare.example. 3600 IN TXT")
    assert set(rows[0]) == {"domain", "check", "status", "explanation", "expected_record"}
    assert DomainCheck.objects.filter(domain=good, status="ok").count() == 5


@pytest.mark.django_db
def test_it_checks_a_domain_outside_the_inventory_without_storing_anything(dns_settings, capsys):
    _, public = generate_keypair(1024)
    dns_settings.add("outside.example", "TXT", "v=spf1 ip4:203.0.113.5 ~all")
    dns_settings.add("sel1._domainkey.outside.example", "TXT", dkim_txt_value(public))
    dns_settings.add("_dmarc.outside.example", "TXT", "v=DMARC1; p=none")
    dns_settings.add("outside.example", "MX", "10 mx.outside.example.")
    dns_settings.add("mx.outside.example", "A", "203.0.113.9")

    call_command(
        "check_domains",
        "--domain",
        "Outside.Example",
        "--selector",
        "sel1",
        "--expect-ip",
        "203.0.113.5",
        "--json",
    )

    rows = {row["check"]: row for row in _lines(capsys)}
    assert {row["domain"] for row in rows.values()} == {"outside.example"}
    assert {check: row["status"] for check, row in rows.items()} == {
        "spf": "ok",
        "dkim": "ok",
        "dmarc": "warning",
        "mx": "ok",
    }
    assert "1024-bit" in rows["dkim"]["explanation"]
    assert not DomainCheck.objects.exists()

    call_command(
        "check_domains",
        "--domain",
        "outside.example",
        "--selector",
        "sel1",
        "--public-key",
        "MIIBIj",
        "--json",
    )
    rows = {row["check"]: row for row in _lines(capsys)}
    assert rows["dkim"]["status"] == "invalid"
    assert rows["spf"]["status"] == "ok"  # no --expect-ip: only the record itself is judged


@pytest.mark.django_db
def test_it_prints_a_table_with_the_records_to_publish(dns_settings, capsys):
    call_command("check_domains", "--domain", "nothing.example", "--expect-ip", "192.0.2.7")

    out = capsys.readouterr().out
    assert "nothing.example" in out and "spf" in out and "missing" in out
    assert 'publish  nothing.example. 3600 IN TXT "v=spf1 ip4:192.0.2.7 -all"' in out


@pytest.mark.django_db
def test_it_fails_on_usage_errors_and_when_dns_answers_nothing(dns_settings):
    with pytest.raises(CommandError, match="not an IP address"):
        call_command("check_domains", "--domain", "x.example", "--expect-ip", "nope")
    with pytest.raises(CommandError, match="not a valid domain name"):
        call_command("check_domains", "--domain", "bad name.example")
    with pytest.raises(CommandError, match="--public-key needs --selector"):
        call_command("check_domains", "--domain", "x.example", "--public-key", "abc")

    dns_settings.set_behaviour("*.down.example", "servfail")
    dns_settings.set_behaviour("down.example", "servfail")
    with pytest.raises(CommandError, match="DNS did not answer"):
        call_command("check_domains", "--domain", "down.example", "--json")
