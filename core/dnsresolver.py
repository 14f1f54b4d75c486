"""Resolvers built from the DNS_NAMESERVERS setting (pure Python, no Django imports).

DNS checks and blocklist sweeps must use the resolvers the operator configured, never /etc/resolv.conf:
Spamhaus refuses queries that arrive through public resolvers, and tests point everything at a local
server on a random port. So resolvers are always built with ``configure=False`` and explicit
address/port pairs.
"""

from __future__ import annotations

import ipaddress

import dns.asyncresolver
import dns.nameserver
import dns.resolver

__all__ = ["make_async_resolver", "make_resolver", "parse_nameservers"]

DEFAULT_PORT = 53


def _parse_one(item: str) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):
        # "[2001:db8::1]:5353" or "[2001:db8::1]"
        host, sep, rest = item[1:].partition("]")
        if not sep:
            raise ValueError(f"unclosed '[' in nameserver {item!r}")
        if rest and not rest.startswith(":"):
            raise ValueError(f"expected ':port' after ']' in nameserver {item!r}")
        port_text = rest[1:] if rest else ""
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    else:
        # A bare IPv4 address, or a bare IPv6 address (several colons, no port possible without brackets).
        host, port_text = item, ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"nameserver must be an IP address, not {host!r}") from None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"invalid port {port_text!r} in nameserver {item!r}")
        port = int(port_text)
    else:
        port = DEFAULT_PORT
    return str(address), port


def parse_nameservers(value: str | list[str]) -> list[tuple[str, int]]:
    """Parse "ip", "ip:port", "[v6]:port" items, comma separated (or a list of them), into (ip, port).

    Raises ValueError on anything else, including host names: a resolver needs addresses, and resolving the
    resolver's own name would need a resolver.
    """
    items = value.split(",") if isinstance(value, str) else [part for v in value for part in v.split(",")]
    result = [_parse_one(item) for item in items if item.strip()]
    if not result:
        raise ValueError("no nameserver given")
    return result


def _nameserver_objects(
    nameservers: str | list[str] | list[tuple[str, int]],
) -> list[dns.nameserver.Nameserver]:
    if isinstance(nameservers, list) and nameservers and isinstance(nameservers[0], tuple):
        pairs = [(str(h), int(p)) for h, p in nameservers]
    else:
        pairs = parse_nameservers(nameservers)  # type: ignore[arg-type]
    # Do53Nameserver carries its own port, so servers on different ports can be mixed.
    return [dns.nameserver.Do53Nameserver(host, port) for host, port in pairs]


def _configure(
    resolver: dns.resolver.BaseResolver,
    nameservers: str | list[str] | list[tuple[str, int]],
    timeout: float,
    lifetime: float | None,
) -> None:
    resolver.nameservers = _nameserver_objects(nameservers)
    # timeout bounds one attempt at one server; lifetime bounds the whole resolve() including retries over
    # every server. Default lifetime: one attempt per server plus one retry, so a dead server cannot stall a
    # DNS check for longer than the caller expects.
    resolver.timeout = timeout
    resolver.lifetime = lifetime if lifetime is not None else timeout * (len(resolver.nameservers) + 1)
    # We want the server's own answer (NXDOMAIN vs SERVFAIL matters for blocklists), so no caching here.
    resolver.cache = None


def make_resolver(
    nameservers: str | list[str] | list[tuple[str, int]],
    *,
    timeout: float = 3.0,
    lifetime: float | None = None,
) -> dns.resolver.Resolver:
    """A synchronous dnspython resolver that talks only to ``nameservers`` (see ``parse_nameservers``)."""
    resolver = dns.resolver.Resolver(configure=False)
    _configure(resolver, nameservers, timeout, lifetime)
    return resolver


def make_async_resolver(
    nameservers: str | list[str] | list[tuple[str, int]],
    *,
    timeout: float = 3.0,
    lifetime: float | None = None,
) -> dns.asyncresolver.Resolver:
    """The asyncio counterpart of ``make_resolver``."""
    resolver = dns.asyncresolver.Resolver(configure=False)
    _configure(resolver, nameservers, timeout, lifetime)
    return resolver
