"""The verdict on one address: the decision table, syntax and normalisation, role and disposable lists."""

import pytest

from hygiene.rules import (
    DNS_ERROR,
    DNS_NO_HOST,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_OK,
    DNS_TIMEOUT,
    REASONS,
    Address,
    classify,
    is_disposable,
    is_role_account,
    parse_address,
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"syntax_ok": False}, ("invalid", "bad_syntax")),
        ({"syntax_ok": False, "duplicate": True, "suppressed": True}, ("invalid", "bad_syntax")),
        ({"syntax_ok": True, "duplicate": True, "dns": DNS_OK}, ("invalid", "duplicate")),
        ({"syntax_ok": True, "duplicate": True, "suppressed": True}, ("invalid", "duplicate")),
        ({"syntax_ok": True, "suppressed": True, "dns": DNS_OK}, ("invalid", "suppressed")),
        ({"syntax_ok": True, "dns": DNS_NXDOMAIN}, ("invalid", "domain_not_found")),
        ({"syntax_ok": True, "dns": DNS_NULL_MX}, ("invalid", "null_mx")),
        ({"syntax_ok": True, "dns": DNS_NO_HOST}, ("invalid", "no_mail_server")),
        ({"syntax_ok": True, "dns": DNS_NXDOMAIN, "disposable": True}, ("invalid", "domain_not_found")),
        ({"syntax_ok": True, "dns": DNS_OK, "disposable": True}, ("risky", "disposable")),
        ({"syntax_ok": True, "dns": DNS_OK, "disposable": True, "role": True}, ("risky", "disposable")),
        ({"syntax_ok": True, "dns": DNS_OK, "role": True}, ("risky", "role_account")),
        ({"syntax_ok": True, "dns": DNS_TIMEOUT, "role": True}, ("risky", "role_account")),
        ({"syntax_ok": True, "dns": DNS_TIMEOUT}, ("unknown", "dns_timeout")),
        ({"syntax_ok": True, "dns": DNS_ERROR}, ("unknown", "dns_error")),
        ({"syntax_ok": True, "dns": None}, ("unknown", "dns_error")),
        ({"syntax_ok": True, "dns": DNS_OK}, ("valid", "")),
    ],
)
def test_it_follows_the_decision_table(kwargs, expected):
    assert classify(**kwargs) == expected


@pytest.mark.parametrize("dns", [DNS_TIMEOUT, DNS_ERROR])
def test_it_never_calls_dns_trouble_invalid(dns):
    status, _ = classify(syntax_ok=True, dns=dns)
    assert status == "unknown"


def test_it_gives_every_reason_a_status_and_label():
    assert {status for status, _ in REASONS.values()} == {"invalid", "risky", "unknown"}
    assert all(label for _, label in REASONS.values())


@pytest.mark.parametrize(
    ("raw", "key", "domain"),
    [
        ("Ana@Example.COM", "ana@example.com", "example.com"),
        ("  <bob@example.org>  ", "bob@example.org", "example.org"),
        ("José@Exämple.com", "josé@exämple.com", "xn--exmple-cua.com"),
        ("user+tag@sub.example.net", "user+tag@sub.example.net", "sub.example.net"),
    ],
)
def test_it_normalises_addresses_and_uses_idna_for_dns(raw, key, domain):
    address = parse_address(raw)
    assert isinstance(address, Address)
    assert address.key == key
    assert address.domain == domain


def test_it_keeps_the_ascii_form_of_an_internationalised_domain():
    address = parse_address("ana@exämple.com")
    assert address.ascii_key == "ana@xn--exmple-cua.com"
    assert parse_address("ana@example.com").ascii_key == ""


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "no-at-sign", "a@b", "two@@example.com", "a..b@example.com", "x@foo.test", "ana@-x.com"],
)
def test_it_explains_bad_syntax(raw):
    reason = parse_address(raw)
    assert isinstance(reason, str)
    assert reason


@pytest.mark.parametrize(
    ("local", "role"),
    [
        ("postmaster", True),
        ("info", True),
        ("no-reply", True),
        ("info+news", True),
        ("ana", False),
        ("infos", False),
    ],
)
def test_it_recognises_role_accounts(local, role):
    assert is_role_account(local) is role


@pytest.mark.parametrize(
    ("domain", "disposable"),
    [
        ("mailinator.com", True),
        ("inbox.mailinator.com", True),
        ("MAILINATOR.COM", True),
        ("gmail.com", False),
    ],
)
def test_it_uses_the_disposable_list_including_subdomains(domain, disposable):
    assert is_disposable(domain) is disposable


@pytest.mark.parametrize(
    "raw",
    [
        "Ana.Smith+tag@Example.COM",
        "ana@xn--exmple-cua.com",
        "ana@sub.domain.example.org",
        "a" * 64 + "@example.com",
        "a" * 65 + "@example.com",
        "ana@" + "a" * 64 + ".com",
        "ana@" + ".".join(["abcdefghi"] * 25) + ".com",
        "ana@example",
        "ana@foo.test",
        "ana@localhost",
        "ana@[192.0.2.1]",
        "ana@-bad.com",
        "ana@bad-.com",
        "ana@ex_ample.com",
        ".ana@example.com",
        "ana.@example.com",
        '"quoted"@example.com',
        '"a@b"@example.com',
        "Ana <ana@example.com>",
        "ana@@example.com",
        "ana @example.com",
        "ana@exa mple.com",
        "ana@123.com",
    ],
)
def test_the_fast_path_agrees_with_a_full_check(raw):
    from email_validator import EmailNotValidError, validate_email

    fast = parse_address(raw)
    try:
        full = validate_email(raw.strip().strip("<>").strip(), check_deliverability=False)
    except EmailNotValidError:
        assert isinstance(fast, str)
        return
    assert isinstance(fast, Address)
    assert fast.key == full.normalized.lower()
    assert fast.domain == full.ascii_domain
