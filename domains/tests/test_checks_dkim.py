"""DKIM check against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import dns.rdata
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization

from core.dnsresolver import make_resolver
from domains.checks.dkim import check_dkim
from domains.dkim_keys import dkim_txt_value, generate_keypair, split_txt
from testsupport.dnsserver import LocalDNSServer

NAME = "ee1._domainkey.example.com"


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    # Key generation is the slow part of this module: make each key once.
    _, long_key = generate_keypair(2048)
    _, other_key = generate_keypair(1024)
    return {"long": long_key, "other": other_key}


@pytest.fixture(scope="module")
def _running_server() -> Iterator[LocalDNSServer]:
    with LocalDNSServer() as server:
        yield server


@pytest.fixture
def server(_running_server: LocalDNSServer) -> LocalDNSServer:
    _running_server.clear()
    return _running_server


@pytest.fixture
def resolver(server: LocalDNSServer) -> dns.resolver.Resolver:
    return make_resolver([server.nameserver], timeout=1.0, lifetime=2.0)


def test_it_accepts_the_published_key(server, resolver, keys):
    server.add(NAME, "TXT", dkim_txt_value(keys["long"]))

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["long"])

    assert result.status == "ok", result.explanation
    assert result.check == "dkim"
    assert result.details["key_bits"] == 2048


def test_it_joins_a_long_key_published_as_several_strings(server, resolver, keys):
    strings = split_txt(dkim_txt_value(keys["long"]))
    assert len(strings) == 2  # a 2048-bit key does not fit in one 255-byte string
    server.add(NAME, "TXT", strings)

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["long"])

    assert result.status == "ok", result.explanation
    assert result.expected_record.startswith("ee1._domainkey.example.com. 3600 IN TXT ( ")
    rdata = dns.rdata.from_text("IN", "TXT", result.expected_record.split("IN TXT ", 1)[1].strip("() "))
    assert [s.decode() for s in rdata.strings] == strings


def test_it_reports_a_key_that_does_not_match(server, resolver, keys):
    server.add(NAME, "TXT", dkim_txt_value(keys["other"]))

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["long"])

    assert result.status == "invalid"
    assert "published key does not match" in result.explanation
    assert keys["long"][:200] in result.expected_record


def test_it_reports_a_missing_selector(resolver, keys):
    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["long"])

    assert result.status == "missing"
    assert NAME in result.explanation
    assert result.expected_record.startswith(f"{NAME}. 3600 IN TXT (")


def test_it_reports_a_revoked_key(server, resolver, keys):
    server.add(NAME, "TXT", "v=DKIM1; k=rsa; p=")

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["long"])

    assert result.status == "invalid"
    assert "revoked" in result.explanation


def test_it_accepts_the_same_key_in_pkcs1_form(server, resolver, keys):
    key = serialization.load_der_public_key(base64.b64decode(keys["other"]))
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    server.add(NAME, "TXT", f"v=DKIM1; p={base64.b64encode(pkcs1).decode()}")

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["other"])

    assert result.status == "ok", result.explanation


def test_it_warns_about_testing_mode(server, resolver, keys):
    server.add(NAME, "TXT", f"v=DKIM1; k=rsa; t=y; p={keys['other']}")

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["other"])

    assert result.status == "warning"
    assert "t=y" in result.explanation


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("k=rsa; v=DKIM1; p=AAAA", "v= must be the first tag"),
        ("v=DKIM1; k=ed25519; p=AAAA", "k=ed25519"),
        ("v=DKIM1; k=rsa; junk; p=AAAA", "bad tag"),
        ("v=DKIM1; k=rsa", "no p="),
        ("some-verification-token", "not a DKIM key"),
    ],
)
def test_it_rejects_a_broken_record(server, resolver, keys, record, message):
    server.add(NAME, "TXT", record)

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["other"])

    assert result.status == "invalid"
    assert message in result.explanation


def test_it_follows_a_cname_delegation(server, resolver, keys):
    server.add(NAME, "CNAME", "ee1.keys.esp.example.")
    server.add("ee1.keys.esp.example", "TXT", dkim_txt_value(keys["other"]))

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["other"])

    assert result.status == "ok", result.explanation


def test_it_reports_unknown_on_timeout(server, keys):
    server.set_behaviour(NAME, "timeout")
    fast = make_resolver([server.nameserver], timeout=0.2, lifetime=0.5)

    result = check_dkim("example.com", "ee1", resolver=fast, public_key_b64=keys["other"])

    assert result.status == "unknown"
    assert result.explanation == "DNS did not answer (timeout) - retry"


# RFC 8463 appendix A.2: the example Ed25519 public key record (brisbane._domainkey.football.example.com).
RFC8463_P = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def test_it_accepts_an_ed25519_key_rfc_8463(server, resolver):
    from domains.checks.dkim import check_dkim_published

    server.add(NAME, "TXT", f"v=DKIM1; k=ed25519; p={RFC8463_P}")

    result = check_dkim_published("example.com", "ee1", resolver=resolver)

    assert result.status == "ok", result.explanation
    assert "Ed25519" in result.explanation and result.details["key_type"] == "ed25519"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("v=DKIM1; k=ed25519; p=AAAA", "not a 32-byte Ed25519 public key"),
        ("v=DKIM1; k=dsa; p=AAAA", "k=dsa is not a DKIM key type"),
    ],
)
def test_it_rejects_a_bad_ed25519_key_or_an_unknown_type(server, resolver, record, message):
    from domains.checks.dkim import check_dkim_published

    server.add(NAME, "TXT", record)

    result = check_dkim_published("example.com", "ee1", resolver=resolver)

    assert result.status == "invalid"
    assert message in result.explanation


def test_an_ed25519_key_where_our_rsa_key_belongs_is_named_as_such(server, resolver, keys):
    server.add(NAME, "TXT", f"v=DKIM1; k=ed25519; p={RFC8463_P}")

    result = check_dkim("example.com", "ee1", resolver=resolver, public_key_b64=keys["other"])

    assert result.status == "invalid"
    assert "Ed25519 key (k=ed25519, RFC 8463)" in result.explanation
