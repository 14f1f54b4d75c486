"""Benchmark: the DNSBL sweep engine against a bare dns.asyncresolver loop (not a test).

    .venv/bin/python bench/dnsbl_sweep.py [--targets 2000] [--concurrency 200] [--timeout 1.0]

Both clients ask a LocalDNSServer on 127.0.0.1 the same questions (TARGETS IPs x 12 IP lists, mostly
NXDOMAIN, some listings, some error codes, a few silent names) at the same concurrency. The script prints
queries/s for each, the ratio (goal >= 3) and whether both reached the same verdict for every pair.

The server runs in this process and shares the GIL with the client under test. Its answers are cached as wire
bytes, and the cache is warmed with one raw pass before timing. That way the figures measure the clients,
not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import socket
import sys
import time
from pathlib import Path

import dns.asyncresolver
import dns.message
import dns.resolver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.dnsresolver import make_async_resolver
from reputation.dnsbl.catalogue import Blocklist, ip_lists
from reputation.dnsbl.engine import (
    MEANING_REFUSED,
    MEANING_SERVFAIL,
    MEANING_TIMEOUT,
    Result,
    classify,
    query_name,
    sweep,
)
from testsupport.dnsserver import LocalDNSServer

LIST_COUNT = 12


def bench_lists() -> list[Blocklist]:
    lists = ip_lists()
    # The catalogue ships fewer IP lists than the benchmark wants; pad with made-up lists under .test.
    n = 0
    while len(lists) < LIST_COUNT:
        n += 1
        lists.append(
            Blocklist(
                key=f"bench-{n}",
                name=f"Bench list {n}",
                zone=f"bl{n}.bench.test",
                kind="ip",
                severity="minor",
                codes={"127.0.0.2": "listed on a bench list"},
            )
        )
    return lists[:LIST_COUNT]


def populate(server: LocalDNSServer, targets: list[str], lists: list[Blocklist], timeouts: int) -> None:
    """A realistic mix: ~95% NXDOMAIN, ~4% listed, ~1% error codes, a few silent names."""
    rng = random.Random(42)
    for index, ip in enumerate(targets):
        for entry in lists:
            qname = query_name(ip, entry.zone)
            roll = rng.random()
            if roll < 0.04:
                codes = list(entry.codes) or ["127.0.0.2"]
                server.add(qname, "A", rng.choice(codes))
                if rng.random() < 0.2:
                    server.add(qname, "A", "127.0.0.99")  # unknown code alongside a known one
            elif roll < 0.05:
                if entry.error_codes:
                    server.add(qname, "A", rng.choice(list(entry.error_codes)))
                else:
                    server.set_behaviour(qname, rng.choice(["servfail", "refused"]))
            elif roll < 0.06 and entry.good_codes:
                server.add(qname, "A", rng.choice(list(entry.good_codes)))
            elif roll < 0.065:
                server.add(qname, "TXT", "listed, see the website")  # NOERROR, no A record
        # Put the silent names first so their timeouts overlap with the rest of the work for both clients.
        if index < timeouts:
            server.set_behaviour(query_name(ip, lists[index % len(lists)].zone), "timeout")


def warm(server: LocalDNSServer, names: list[str]) -> None:
    """Send every question once so the server has its answers cached before anything is timed."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((server.host, server.port))
        sock.settimeout(0.05)  # only silent names ever wait this long
        batch = 100
        for start in range(0, len(names), batch):
            chunk = names[start : start + batch]
            for name in chunk:
                sock.send(dns.message.make_query(name, "A").to_wire())
            with contextlib.suppress(TimeoutError):
                for _ in chunk:
                    sock.recv(4096)


async def bare(
    targets: list[str], lists: list[Blocklist], nameserver: str, timeout: float, concurrency: int
) -> list[Result]:
    """What one would write first: dns.asyncresolver + a semaphore + gather, same verdict rules."""
    resolver = make_async_resolver(nameserver, timeout=timeout, lifetime=2 * timeout)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(ip: str, entry: Blocklist) -> Result:
        async with semaphore:
            try:
                answer = await resolver.resolve(query_name(ip, entry.zone), "A")
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return classify(entry, [], target=ip)
            except dns.resolver.LifetimeTimeout:
                return Result(ip, entry.key, entry.zone, "error", "", MEANING_TIMEOUT.format(timeout=timeout))
            except dns.resolver.NoNameservers as exc:
                text = str(exc)
                meaning = MEANING_REFUSED if "REFUSED" in text else MEANING_SERVFAIL
                return Result(ip, entry.key, entry.zone, "error", "", meaning)
            return classify(entry, [r.address for r in answer], target=ip)

    return await asyncio.gather(*(one(ip, entry) for ip in targets for entry in lists))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--timeouts", type=int, default=5, help="how many names never answer")
    args = parser.parse_args()

    lists = bench_lists()
    targets = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(1, args.targets + 1)]
    queries = len(targets) * len(lists)
    with LocalDNSServer() as server:
        started = time.perf_counter()
        populate(server, targets, lists, args.timeouts)
        warm(server, [query_name(ip, entry.zone) for ip in targets for entry in lists])
        print(
            f"server {server.nameserver}: {len(targets)} targets x {len(lists)} lists = {queries} queries "
            f"(set up and warmed in {time.perf_counter() - started:.1f}s)"
        )

        server.reset_count()
        started = time.perf_counter()
        fast = asyncio.run(
            sweep(
                [(ip, "ip") for ip in targets],
                lists,
                nameservers=server.nameserver,
                timeout=args.timeout,
                concurrency=args.concurrency,
            )
        )
        fast_time = time.perf_counter() - started
        fast_sent = server.query_count

        server.reset_count()
        started = time.perf_counter()
        slow = asyncio.run(bare(targets, lists, server.nameserver, args.timeout, args.concurrency))
        slow_time = time.perf_counter() - started
        slow_sent = server.query_count

    fast_rate, slow_rate = queries / fast_time, queries / slow_time
    print(f"sweep: {fast_time:6.2f}s  {fast_rate:8.0f} queries/s  ({fast_sent} packets)")
    print(f"bare : {slow_time:6.2f}s  {slow_rate:8.0f} queries/s  ({slow_sent} packets)")
    ratio = fast_rate / slow_rate
    print(f"ratio sweep/bare = {ratio:.2f} (goal >= 3)")

    verdict = {}
    for result in fast:
        verdict[result.status] = verdict.get(result.status, 0) + 1
    print("verdicts:", ", ".join(f"{status} {count}" for status, count in sorted(verdict.items())))
    disagreements = [(a, b) for a, b in zip(fast, slow, strict=True) if a != b]
    if disagreements:
        print(f"correctness: {len(disagreements)} of {queries} results DIFFER, e.g.:")
        for a, b in disagreements[:5]:
            print(f"  sweep {a}\n  bare  {b}")
        return 1
    print(f"correctness: sweep and bare agree on all {queries} results")
    return 0 if ratio >= 3 else 2


if __name__ == "__main__":
    sys.exit(main())
