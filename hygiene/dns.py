"""Can a domain receive mail? One cached answer per domain per job, looked up concurrently.

Per distinct domain: one MX query. Only when the domain exists but has no MX (NODATA) do we ask for A,
then AAAA only when there is no usable A (RFC 5321 section 5.1 "implicit MX"). So a list with 100,000
addresses over 5,000 domains costs 5,000 to 15,000 questions, never 100,000.

Timeouts and server failures are kept apart from answers: they make a domain "unknown", never "invalid".
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from core.dnsresolver import make_async_resolver
from hygiene.rules import DNS_ERROR, DNS_NO_HOST, DNS_NULL_MX, DNS_NXDOMAIN, DNS_OK, DNS_TIMEOUT

__all__ = ["DomainCache", "usable_address"]

DEFAULT_CONCURRENCY = 100


def usable_address(text: str) -> bool:
    """An A/AAAA a sender could connect to: not 0.0.0.0, loopback, multicast or reserved space.

    Parked or sinkholed domains often publish 127.0.0.1 or 0.0.0.0 precisely so that mail goes nowhere.
    """
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (
        address.is_unspecified
        or address.is_loopback
        or address.is_multicast
        or address.is_reserved
        or address.is_link_local
    )


class DomainCache:
    """The DNS verdicts of one job run: ``outcomes[domain]`` is one of the rules.DNS_* values.

    ``queries`` counts the questions asked (an MX, A or AAAA resolve each), which is what the benchmark
    compares with the number of distinct domains.
    """

    def __init__(
        self,
        nameservers: str | list[str],
        *,
        timeout: float = 3.0,
        lifetime: float | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.nameservers = nameservers
        self.timeout = timeout
        self.lifetime = lifetime
        self.concurrency = max(1, concurrency)
        self.outcomes: dict[str, str] = {}
        self.queries = 0

    def lookup(self, domains: Iterable[str]) -> dict[str, str]:
        """The outcome for each of ``domains``; only domains not seen before are asked about."""
        wanted = set(domains)
        missing = sorted(d for d in wanted if d not in self.outcomes)
        if missing:
            self.outcomes.update(asyncio.run(self._lookup_all(missing)))
        return {d: self.outcomes[d] for d in wanted}

    async def _lookup_all(self, domains: list[str]) -> dict[str, str]:
        resolver = make_async_resolver(self.nameservers, timeout=self.timeout, lifetime=self.lifetime)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(domain: str) -> tuple[str, str]:
            async with gate:
                return domain, await self._domain_outcome(resolver, domain)

        return dict(await asyncio.gather(*(one(d) for d in domains)))

    async def _ask(
        self, resolver: dns.asyncresolver.Resolver, domain: str, rdtype: str
    ) -> dns.resolver.Answer:
        self.queries += 1
        return await resolver.resolve(domain, rdtype, raise_on_no_answer=False, search=False)

    async def _domain_outcome(self, resolver: dns.asyncresolver.Resolver, domain: str) -> str:
        try:
            answer = await self._ask(resolver, domain, "MX")
            if answer.rrset is not None and len(answer.rrset):
                exchanges = [rdata.exchange for rdata in answer.rrset]
                # RFC 7505: "0 ." says the domain accepts no mail. A null MX mixed with real ones is a
                # misconfiguration, and the real ones still receive mail.
                if all(exchange == dns.name.root for exchange in exchanges):
                    return DNS_NULL_MX
                return DNS_OK
            for rdtype in ("A", "AAAA"):
                answer = await self._ask(resolver, domain, rdtype)
                if answer.rrset is not None and any(usable_address(r.address) for r in answer.rrset):
                    return DNS_OK
            return DNS_NO_HOST
        except dns.resolver.NXDOMAIN:
            return DNS_NXDOMAIN
        except dns.exception.Timeout:
            return DNS_TIMEOUT
        except (dns.resolver.NoNameservers, dns.exception.DNSException, OSError):
            # SERVFAIL, REFUSED, a malformed answer or an unreachable resolver: we do not know.
            return DNS_ERROR
