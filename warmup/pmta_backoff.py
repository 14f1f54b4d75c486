"""The reply rules as PMTA's own backoff mode, so PMTA slows a queue within seconds by itself.

For each provider with enabled rules (UG5 section numbers):
- ``<smtp-pattern-list ee-backoff-PROVIDER>`` with one ``reply /PATTERN/ mode=backoff`` per rule
  (3.3.15: patterns are PCRE, case-insensitive; a ``#`` must be written ``\\x23``, the comment symbol);
- a ``<domain D>`` block per recipient domain of the provider with ``smtp-pattern-list`` (3.3.10.90),
  ``backoff-max-msg-rate N/h`` (3.3.10.34: applies instead of max-msg-rate while the queue is in backoff;
  attempts count) and ``backoff-to-normal-after Nm`` (3.3.10.44; the default is never).
A queue is one domain on one VMTA (= one IP), so these global ``<domain>`` blocks act per IP x domain.

Rules without a provider are not rendered: a pattern for every provider would put every queue of every
IP into backoff. The fragment ``emailengine-backoff.conf`` is registered with ips' config renderer
(warmup/apps.py), which includes it from ``emailengine.conf`` on every server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ips.models import ProviderGroup
from warmup.models import PROVIDER_DOMAINS, ReplyRule

LIST_PREFIX = "ee-backoff-"
FRAGMENT_NAME = "emailengine-backoff.conf"
_NAME_OK = re.compile(r"^[a-z0-9-]+$")


def pmta_pattern(pattern: str) -> str:
    """A rule's pattern as the text between PMTA's slashes: ``/`` and ``#`` escaped, one line."""
    if "\n" in pattern or "\r" in pattern:
        raise ValueError("a PMTA reply pattern is one line")
    return pattern.replace("/", r"\/").replace("#", r"\x23")


def backoff_lines(rules: Iterable[ReplyRule]) -> list[str]:
    """Config lines for the enabled provider rules, grouped by provider in a stable order."""
    by_provider: dict[str, list[ReplyRule]] = {}
    for rule in rules:
        if rule.enabled and rule.provider in PROVIDER_DOMAINS:
            by_provider.setdefault(rule.provider, []).append(rule)
    lines: list[str] = []
    for provider in sorted(by_provider):
        chosen = sorted(by_provider[provider], key=lambda r: r.name)
        name = f"{LIST_PREFIX}{provider}"
        if not _NAME_OK.match(name):
            continue
        lines.append(f"# reply rules for {provider}: {', '.join(r.name for r in chosen)}")
        lines.append(f"<smtp-pattern-list {name}>")
        lines += [f"    reply /{pmta_pattern(r.pattern)}/ mode=backoff" for r in chosen]
        lines.append("</smtp-pattern-list>")
        rates = [r.backoff_max_per_hour for r in chosen if r.backoff_max_per_hour]
        minutes = [r.backoff_to_normal_minutes for r in chosen if r.backoff_to_normal_minutes]
        # On an IP with a cap for the provider, its domains share one queue (queue-to, UG5 10.9), whose
        # settings come from <domain PROVIDER.queue>, not from the domains': it backs off the same way.
        for domain in (*PROVIDER_DOMAINS[provider], ProviderGroup(name=provider).queue_name):
            lines.append(f"<domain {domain}>")
            lines.append(f"    smtp-pattern-list {name}")
            if rates:
                # The strictest rule wins: several patterns share one backoff mode per queue.
                lines.append(f"    backoff-max-msg-rate {min(rates)}/h")
            if minutes:
                lines.append(f"    backoff-to-normal-after {max(minutes)}m")
            lines.append("</domain>")
        lines.append("")
    return lines


def backoff_fragment() -> str:
    """The fragment for the current rules (read from the database)."""
    return "\n".join(backoff_lines(ReplyRule.objects.filter(enabled=True).order_by("provider", "name")))


def render_backoff_fragment(server: object) -> str:
    """The fragment's body for one server (the rules are the same for every server)."""
    body = backoff_fragment()
    header = "# Reply rules as PMTA backoff mode (UG5 3.3.15, 3.3.10.90, 3.3.10.34, 3.3.10.44).\n"
    return header + (body or "# no provider reply rules enabled") + "\n"
