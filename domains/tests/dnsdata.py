"""DNS data for the service, page and command tests: the records a correctly set-up domain publishes."""

from __future__ import annotations

from domains.dkim_keys import dkim_txt_value

SERVER_HOST = "pmta1.example.net"
POOL_IPS = {"192.0.2.10": "mta1.example.net", "192.0.2.11": "mta2.example.net"}


def publish_all(server, domain, *, skip: tuple[str, ...] = ()) -> None:
    """Publish every record the domain needs on the local DNS server, except the checks named in skip."""
    from domains.models import KeyState

    rp = domain.return_path_domain
    if "spf" not in skip:
        server.add(rp, "TXT", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all")
    if "dkim" not in skip:
        for key in domain.keys.filter(state__in=[KeyState.ACTIVE, KeyState.RETIRING]):
            server.add(f"{key.selector}._domainkey.{domain.name}", "TXT", dkim_txt_value(key.public_key_b64))
    if "dmarc" not in skip:
        server.add(f"_dmarc.{domain.name}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain.name}")
    if "mx" not in skip:
        server.add(rp, "MX", f"10 {SERVER_HOST}.")
        server.add(SERVER_HOST, "A", "192.0.2.1")
    if "ptr" not in skip:
        for address, hostname in POOL_IPS.items():
            reverse = ".".join(reversed(address.split("."))) + ".in-addr.arpa"
            server.add(reverse, "PTR", f"{hostname}.")
            server.add(hostname, "A", address)
