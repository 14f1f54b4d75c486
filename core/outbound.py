"""The one HTTP client for URLs that people typed in (a tenant's MailWizz API URL, and any later one).

A URL a tenant enters makes *this server* connect somewhere, with the tenant's credentials and from inside
our network, so the destination is checked where it matters: on the address the socket actually connects to.

- The host name is resolved once, every address it resolves to is checked, and the connection goes to one
  of exactly those addresses. A name that answers a public address when saved and ``127.0.0.1`` later (DNS
  rebinding), the numeric spellings ``http://2852039166/``, ``http://0xa9fea9fe/``, ``http://0251.0376.0251.0376/``
  and IPv4 inside IPv6 (``[::ffff:169.254.169.254]``, 6to4, NAT64) all end up as the address they mean.
- Loopback, private (RFC 1918, ULA), shared (RFC 6598), link-local (cloud metadata at 169.254.169.254),
  multicast, unspecified and reserved ranges are refused, i.e. every address that is not globally reachable
  per the IANA special-purpose registries (Python's ``ipaddress.is_global``). A MailWizz on a private
  network is legitimate: the operator names its network in ``OUTBOUND_ALLOWED_NETWORKS`` (CIDRs, comma
  separated).
- No proxies from the environment (a proxy would connect on our behalf, unchecked), no redirects followed (a
  3xx is an error: it could point anywhere and would carry the credentials along), a cap on the reply size
  and an overall deadline, not only a per-read timeout.
- Exceptions carry text that is safe to show the tenant who typed the URL: it says what kind of failure it
  was, never what the remote end answered (its body, headers, redirect target or TLS certificate names), so
  the client cannot be used to read or fingerprint services the tenant cannot reach themselves.

``outbound_request`` returns any status that is not a redirect; callers decide what a 4xx/5xx means.
``check_outbound_url`` is the early check for forms: scheme, host and literal addresses, without DNS.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

__all__ = [
    "OutboundError",
    "OutboundRefused",
    "OutboundResponse",
    "OutboundUnavailable",
    "check_outbound_url",
    "outbound_request",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are IPv4


class OutboundError(Exception):
    """The request could not be made or did not give a usable HTTP answer; the message is tenant-safe."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OutboundRefused(OutboundError):
    """The destination is not one this server may connect to (or the URL is not an http(s) URL), or it
    redirected. ``location`` is the redirect target, for operator-facing callers only (never in the text)."""

    location: str = ""


class OutboundUnavailable(OutboundError):
    """Could not connect or no complete answer in time (DNS failure, refused, timeout, TLS failure)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


# --- the address rule --------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _allowed_networks(
    spec: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The operator's allow-list (``OUTBOUND_ALLOWED_NETWORKS``); a bad entry is a configuration error."""
    return _allowed_networks(tuple(settings.OUTBOUND_ALLOWED_NETWORKS))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and routes to (mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str:
    """Why an address is not public, in words ("" when it is public)."""
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return ""


# A URL only operators (staff) can set, such as a PMTA host's management URL, may point at loopback and
# private networks (where PMTA hosts live), but never at these: cloud metadata sits on link-local.
_NEVER_FOR_OPERATORS = frozenset({"link-local", "multicast", "unspecified"})


def refusal(address: IPAddress, *, operator_configured: bool = False) -> str:
    """ "" when this server may connect to ``address``, else the kind of address it is ("loopback", ...)."""
    if any(address in network for network in allowed_networks()):
        return ""
    inner = _embedded_ipv4(address)
    if inner is not None and any(inner in network for network in allowed_networks()):
        return ""
    kind = (_kind(inner) if inner is not None else "") or _kind(address)
    if operator_configured and kind not in _NEVER_FOR_OPERATORS:
        return ""
    return kind


def _literal_address(host: str) -> IPAddress | None:
    """The address a numeric host means, in every spelling the C library accepts (inet_aton: 2852039166,
    0xa9fea9fe, 0251.0376.0251.0376, 169.254.43518), or None for a host name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def _refused_message(host: str, kind: str) -> str:
    return (
        f"{host} is a {kind} address (or resolves to one), which this server does not connect to. "
        "If it is your own server on a private network, ask an operator to allow that network."
    )


# --- the early check ---------------------------------------------------------------------------------------


def check_outbound_url(url: str, *, operator_configured: bool = False) -> str:
    """The URL, stripped, or OutboundRefused: http(s) only, a host, and no literal refused address.

    Host names are resolved only when connecting (a check at save time alone is what DNS rebinding beats).
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise OutboundRefused("That is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Enter a URL starting with https:// or http://.")
    if parts.username or parts.password:
        raise OutboundRefused("Leave user names and passwords out of the URL.")
    host = parts.hostname.rstrip(".")
    if not operator_configured and (host == "localhost" or host.endswith(".localhost")):  # RFC 6761
        raise OutboundRefused(_refused_message(host, "loopback"))
    address = _literal_address(host)
    if address is not None and (kind := refusal(address, operator_configured=operator_configured)):
        raise OutboundRefused(_refused_message(host, kind))
    return url


# --- resolving and connecting ------------------------------------------------------------------------------


def _resolve(host: str, port: int, timeout: float) -> list[IPAddress]:
    """Every address ``host`` stands for. Numeric hosts are read without DNS; names go to the resolvers in
    ``OUTBOUND_NAMESERVERS`` when set (tests use the local DNS server), else to the system's."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    nameservers = settings.OUTBOUND_NAMESERVERS
    if nameservers:
        return _resolve_dns(host, nameservers, timeout)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundUnavailable(f"cannot resolve {host}") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def _resolve_dns(host: str, nameservers: list[str], timeout: float) -> list[IPAddress]:
    import dns.exception
    import dns.resolver

    from core.dnsresolver import make_resolver

    resolver = make_resolver(nameservers, timeout=min(timeout, 3.0))
    found: list[IPAddress] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException:
            raise OutboundUnavailable(f"cannot resolve {host}") from None
        found.extend(ipaddress.ip_address(r.to_text()) for r in answer)
    if not found:
        raise OutboundUnavailable(f"cannot resolve {host}")
    return found


def _connect(host: str, port: int, timeout: float, *, operator_configured: bool) -> socket.socket:
    addresses = _resolve(host, port, timeout)
    for address in addresses:
        # Any refused address refuses the host: a name that also points inside must not get a second try.
        if kind := refusal(address, operator_configured=operator_configured):
            raise OutboundRefused(_refused_message(host, kind))
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except TimeoutError:
            raise OutboundUnavailable(f"timed out: no answer from {host} within {timeout:g}s") from None
        except OSError as exc:
            last = exc
    if isinstance(last, ConnectionRefusedError):
        raise OutboundUnavailable(f"cannot connect to {host}:{port} (connection refused)")
    raise OutboundUnavailable(f"cannot connect to {host}:{port}")


class _CheckedConnection(http.client.HTTPConnection):
    """http.client over a socket opened by ``_connect`` (checked address), TLS on top for https."""

    def __init__(self, host: str, port: int, *, tls: bool, timeout: float, operator_configured: bool) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls = tls
        self._timeout = timeout
        self._operator_configured = operator_configured

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self._timeout, operator_configured=self._operator_configured)
        if self._tls:
            context = ssl.create_default_context()
            try:
                sock = context.wrap_socket(sock, server_hostname=self.host.strip("[]"))
            except ssl.SSLCertVerificationError:
                sock.close()
                raise OutboundUnavailable(f"the TLS certificate of {self.host} was not accepted") from None
            except (ssl.SSLError, OSError):
                sock.close()
                raise OutboundUnavailable(f"the TLS handshake with {self.host} failed") from None
        self.sock = sock


def outbound_request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    operator_configured: bool = False,
) -> OutboundResponse:
    """One request to a URL someone typed in; raises OutboundError (tenant-safe text) or returns the reply.

    ``timeout`` bounds the whole exchange (connect, send, every read), so a server that trickles bytes cannot
    hold a worker longer than that. ``operator_configured``: the URL can only have been set by an operator
    (a PMTA host's management URL), so loopback and private addresses are allowed; link-local, multicast
    and unspecified ones are still refused. Tenant-settable URLs never pass it.
    """
    url = check_outbound_url(url, operator_configured=operator_configured)
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if tls else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    deadline = time.monotonic() + timeout
    conn = _CheckedConnection(host, port, tls=tls, timeout=timeout, operator_configured=operator_configured)
    try:
        conn.putrequest(method.upper(), target, skip_accept_encoding=True)
        sent = {k.lower() for k in (headers or {})}
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if "connection" not in sent:
            conn.putheader("Connection", "close")
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        status = response.status
        if 300 <= status < 400:
            redirect = OutboundRefused(
                f"{host} answered with a redirect (HTTP {status}), which is not followed: "
                "enter the final URL instead.",
                status=status,
            )
            redirect.location = response.getheader("Location", "")[:500]
            raise redirect
        data = bytearray()
        while chunk := response.read1(_READ_CHUNK):
            data += chunk
            if len(data) > max_bytes:
                raise OutboundUnavailable(f"the reply from {host} is larger than {max_bytes} bytes")
            if time.monotonic() > deadline and not response.isclosed():
                raise OutboundUnavailable(f"timed out: no complete answer from {host} within {timeout:g}s")
        reply_headers = {k.lower(): v for k, v in response.getheaders()}
    except OutboundError:
        raise
    except TimeoutError:
        raise OutboundUnavailable(f"timed out: no answer from {host} within {timeout:g}s") from None
    except (http.client.HTTPException, OSError, ValueError):
        # The exception text may quote the remote's status line or headers: name the kind only.
        raise OutboundUnavailable(f"{host} did not give a readable HTTP answer") from None
    finally:
        conn.close()
    return OutboundResponse(status=status, headers=reply_headers, body=bytes(data))
