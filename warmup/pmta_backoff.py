"""The reply rules as PMTA's own backoff mode, so PMTA slows a queue within seconds by itself.

For each provider with enabled rules:
- ``<smtp-pattern-list ee-backoff-PROVIDER>`` with one ``reply /PATTERN/ mode=backoff`` per rule;
- a global ``<domain D>`` block per recipient domain of the provider (and its grouped queue) with
  ``smtp-pattern-list``, ``backoff-max-msg-rate N/h`` (applies instead of max-msg-rate while the queue is in
  backoff; attempts count) and ``backoff-to-normal-after Nm`` (the default is never).
A queue is one domain on one VMTA (= one IP), so these global ``<domain>`` blocks act per IP x domain.

Every line is written through ips' directive table (``ips.pmta_directives``: ``block_open``,
``directive_line``), the same one the rest of the config is rendered with, which refuses a directive, a
context or a value the PowerMTA 5.0 User's Guide does not allow. The UG5 section of each directive comes
from that table too (``ug5_sections``), into the fragment's header: one place for the citations.

Rules without a provider are not rendered: a pattern for every provider would put every queue of every
IP into backoff. The fragment ``emailengine-backoff.conf`` is registered with ips' config renderer
(warmup/apps.py), which includes it from ``emailengine.conf`` on every server.
"""

from __future__ import annotations

from collections.abc import Iterable

from ips.models import ProviderGroup
from ips.pmta_directives import (
    BLOCKS,
    DIRECTIVES,
    DOMAIN,
    GLOBAL,
    SMTP_PATTERN_LIST,
    DirectiveError,
    block_close,
    block_open,
    directive_line,
)
from warmup.models import PROVIDER_DOMAINS, ReplyRule

LIST_PREFIX = "ee-backoff-"
FRAGMENT_NAME = "emailengine-backoff.conf"
# What this fragment renders, in order: the header cites each one's UG5 section from the directive table.
BLOCKS_USED = (SMTP_PATTERN_LIST, DOMAIN)
DIRECTIVES_USED = ("reply", "smtp-pattern-list", "backoff-max-msg-rate", "backoff-to-normal-after")


def ug5_sections() -> list[str]:
    """``<tag>: UG5 x.y`` / ``name: UG5 x.y`` for every block and directive this fragment uses."""
    return [f"<{tag}>: {BLOCKS[tag].section}" for tag in BLOCKS_USED] + [
        f"{name}: {DIRECTIVES[name].section}" for name in DIRECTIVES_USED
    ]


def pmta_pattern(pattern: str) -> str:
    """A rule's regular expression as the text between PMTA's slashes (UG5 3.3.15).

    ``/`` ends the pattern, so it is written ``\\/``; ``#`` starts a comment anywhere on a config line, so
    it is written ``\\x23`` (UG5's own example); a quote is escaped with a backslash, as UG5 asks. An
    escape the author already wrote (``\\/``, ``\\#``) is kept as one escape, never doubled, so the
    pattern PMTA reads matches what the rule's pattern matches.
    """
    if "\n" in pattern or "\r" in pattern:
        raise ValueError("a PMTA reply pattern is one line")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(r"\x23" if nxt == "#" else "\\" + nxt)
            i += 2
            continue
        out.append({"/": r"\/", "#": r"\x23", '"': '\\"'}.get(char, char))
        i += 1
    return "".join(out)


def _provider_lines(provider: str, rules: list[ReplyRule]) -> list[str]:
    name = f"{LIST_PREFIX}{provider}"
    lines = [f"# reply rules for {provider}: {', '.join(' '.join(r.name.split()) for r in rules)}"]
    lines.append(block_open(SMTP_PATTERN_LIST, name, context=GLOBAL))
    lines += [
        directive_line(
            "reply", f"/{pmta_pattern(r.pattern)}/ mode=backoff", context=SMTP_PATTERN_LIST, indent=4
        )
        for r in rules
    ]
    lines.append(block_close(SMTP_PATTERN_LIST))
    rates = [r.backoff_max_per_hour for r in rules if r.backoff_max_per_hour]
    minutes = [r.backoff_to_normal_minutes for r in rules if r.backoff_to_normal_minutes]
    # On an IP with a cap for the provider, its domains share one queue (queue-to, UG5 10.9), whose
    # settings come from <domain PROVIDER.queue>, not from the domains': it backs off the same way.
    for domain in (*PROVIDER_DOMAINS[provider], ProviderGroup(name=provider).queue_name):
        lines.append(block_open(DOMAIN, domain, context=GLOBAL))
        lines.append(directive_line("smtp-pattern-list", name, context=DOMAIN, indent=4))
        if rates:
            # The strictest rule wins: several patterns share one backoff mode per queue.
            lines.append(directive_line("backoff-max-msg-rate", f"{min(rates)}/h", context=DOMAIN, indent=4))
        if minutes:
            lines.append(
                directive_line("backoff-to-normal-after", f"{max(minutes)}m", context=DOMAIN, indent=4)
            )
        lines.append(block_close(DOMAIN))
    return lines


def backoff_lines(rules: Iterable[ReplyRule]) -> list[str]:
    """Config lines for the enabled provider rules, grouped by provider in a stable order.

    A provider whose rules the directive table refuses (a pattern PMTA could not read) is left out whole,
    with a comment saying why: a half-rendered list would back off on some patterns and not others.
    """
    by_provider: dict[str, list[ReplyRule]] = {}
    for rule in rules:
        if rule.enabled and rule.provider in PROVIDER_DOMAINS:
            by_provider.setdefault(rule.provider, []).append(rule)
    lines: list[str] = []
    for provider in sorted(by_provider):
        try:
            lines += _provider_lines(provider, sorted(by_provider[provider], key=lambda r: r.name))
        except (DirectiveError, ValueError) as exc:
            lines.append(f"# reply rules for {provider} left out: {' '.join(str(exc).split())}")
        lines.append("")
    return lines


def backoff_fragment() -> str:
    """The fragment for the current rules (read from the database)."""
    return "\n".join(backoff_lines(ReplyRule.objects.filter(enabled=True).order_by("provider", "name")))


def render_backoff_fragment(server: object) -> str:
    """The fragment's body for one server (the rules are the same for every server)."""
    body = backoff_fragment()
    header = "# Reply rules as PMTA backoff mode. " + "; ".join(ug5_sections()) + ".\n"
    return header + (body or "# no provider reply rules enabled") + "\n"
