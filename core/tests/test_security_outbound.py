"""Finding (SSRF): a tenant's URL could reach loopback, private and link-local services (numeric spellings,
IPv4 in IPv6, DNS rebinding), followed redirects and echoed what answered. The guarded client
(core/outbound.py) checks the address it connects to, refuses those ranges unless the operator allows them,
follows no redirect and says what went wrong in its own words."""

import ipaddress

import pytest

from core.outbound import (
    OutboundRefused,
    OutboundUnavailable,
    check_outbound_url,
    outbound_request,
    refusal,
)
from testsupport.canned_http import CannedReply, canned_http

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9fea9fe/",  # ... in hex
    "http://0251.0376.0251.0376/",  # ... in octal
    "http://169.254.43518/",  # ... in inet_aton's a.b.c form
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
    "http://[2002:a9fe:a9fe::1]/",  # 6to4
    "http://127.0.0.1:6379/",
    "http://127.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://db.localhost/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (RFC 6598)
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_it_refuses_internal_addresses_in_every_spelling(url):
    with pytest.raises(OutboundRefused):
        check_outbound_url(url)
    with pytest.raises(OutboundRefused):
        outbound_request("GET", url, timeout=1)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "http://",
        "http://u:p@x.example/",
    ],
)
def test_it_refuses_what_is_not_a_plain_http_url(url):
    with pytest.raises(OutboundRefused):
        check_outbound_url(url)


def test_public_addresses_pass_the_rule():
    assert refusal(ipaddress.ip_address("203.0.113.9")) == "private"  # documentation range: not public
    assert refusal(ipaddress.ip_address("8.8.8.8")) == ""
    assert refusal(ipaddress.ip_address("2606:4700::1111")) == ""


def test_the_operator_allow_list_opens_a_private_network(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.0.5.0/24"]
    assert check_outbound_url("http://10.0.5.7/api") == "http://10.0.5.7/api"
    with pytest.raises(OutboundRefused):
        check_outbound_url("http://10.0.6.7/api")
    with pytest.raises(OutboundRefused):
        check_outbound_url("http://169.254.169.254/")


def test_it_checks_the_resolved_address_when_connecting(settings, dns_server):
    """DNS rebinding: the name is harmless when saved and points at loopback when used."""
    settings.OUTBOUND_NAMESERVERS = [dns_server.nameserver]
    with canned_http(CannedReply(body=b"internal secret")) as internal:
        port = internal.url.rsplit(":", 1)[1]
        dns_server.add("mw.rebind.example", "A", "203.0.113.10")
        assert check_outbound_url(f"http://mw.rebind.example:{port}/api")  # saved: fine, not resolved
        dns_server.remove("mw.rebind.example")
        dns_server.add("mw.rebind.example", "A", "127.0.0.1")
        with pytest.raises(OutboundRefused, match="loopback"):
            outbound_request("GET", f"http://mw.rebind.example:{port}/api", timeout=2)
        # A name with a public and an internal address is refused too, not tried address by address.
        dns_server.add("mw.rebind.example", "A", "8.8.8.8")
        with pytest.raises(OutboundRefused):
            outbound_request("GET", f"http://mw.rebind.example:{port}/api", timeout=2)
        assert internal.requests == []


def test_it_follows_no_redirect_and_does_not_say_where_it_pointed(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    target = "http://169.254.169.254/latest/meta-data/iam/"
    with canned_http(CannedReply(status=302, headers={"Location": target})) as server:
        with pytest.raises(OutboundRefused, match="redirect") as err:
            outbound_request("GET", server.url + "/api", headers={"X-API-KEY": "k"}, timeout=2)
        assert len(server.requests) == 1
    assert "169.254" not in str(err.value) and err.value.status == 302


def test_it_returns_error_statuses_and_reads_chunked_bodies(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    body = b'{"status": "success"}' + b" " * 5000
    with canned_http(CannedReply(status=200, body=body, chunked=True)) as server:
        reply = outbound_request("POST", server.url + "/x?a=1", body=b"k=v", timeout=2)
    assert (reply.status, reply.body) == (200, body)
    assert server.requests[0]["path"] == "/x?a=1" and server.requests[0]["body"] == b"k=v"
    with canned_http(CannedReply(status=503, body=b"down")) as server:
        assert outbound_request("GET", server.url, timeout=2).status == 503


def test_it_caps_the_reply_size_and_the_total_time(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    big = CannedReply(body=b"x" * 20_000, chunked=True)
    with canned_http(big) as server, pytest.raises(OutboundUnavailable, match="larger than"):
        outbound_request("GET", server.url, timeout=2, max_bytes=10_000)
    trickle = CannedReply(body=b"x" * 8192, chunked=True, trickle_seconds=0.2)
    with canned_http(trickle) as server, pytest.raises(OutboundUnavailable, match="timed out"):
        outbound_request("GET", server.url, timeout=0.5)


def test_it_ignores_proxy_settings_from_the_environment(settings, monkeypatch):
    """A proxy would make the connection on our behalf, to an address nobody checked."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with canned_http(CannedReply(body=b"direct")) as server:
        assert outbound_request("GET", server.url, timeout=2).body == b"direct"


def test_connection_errors_name_the_kind_only(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with pytest.raises(OutboundUnavailable, match=r"cannot connect to 127.0.0.1:9 \(connection refused\)"):
        outbound_request("GET", "http://127.0.0.1:9/", timeout=1)


def test_operator_set_urls_may_reach_private_hosts_but_never_link_local():
    """PMTA management URLs (operators only) live on loopback/private networks; metadata stays out."""
    with canned_http(CannedReply(body=b"pmta")) as pmta:
        assert outbound_request("GET", pmta.url, timeout=2, operator_configured=True).body == b"pmta"
        with pytest.raises(OutboundRefused):
            outbound_request("GET", pmta.url, timeout=2)  # the same URL from a tenant is refused
    for url in ("http://169.254.169.254/", "http://2852039166/", "http://[::ffff:169.254.169.254]/"):
        with pytest.raises(OutboundRefused, match="link-local"):
            outbound_request("GET", url, timeout=1, operator_configured=True)
