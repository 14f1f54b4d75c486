"""Every PMTA directive and block Email Engine may render, with its UG5 section, and a checker for the result.

The renderer writes each directive through ``directive_line`` and opens each block through ``block_open``,
so nothing reaches a config file that is not a row of ``DIRECTIVES`` or ``BLOCKS`` with a value matching its
grammar. ``config_check`` reads rendered text back the way PMTA does (UG5 3.1: ``#`` starts a comment to the
end of the line, directives are ``keyword value``, blocks are ``<tag arg>`` ... ``</tag>``) and reports every
line that is not in the table, is in a context the table does not allow, or has a value outside its grammar.

Sections are those of the PowerMTA 5.0 User's Guide (UG5, /work/pmta-doc, the ``jnotes/pmta-doc`` mirror).
Adding a directive is one row in ``DIRECTIVES`` (a block, one row in ``BLOCKS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BLOCKS",
    "DIRECTIVES",
    "Block",
    "ConfigProblem",
    "Directive",
    "block_close",
    "block_open",
    "config_check",
    "directive_line",
]

# Contexts: where a line may stand. "domain" is a <domain> block anywhere (global, in a VMTA, in a pool).
GLOBAL = "global"
VMTA = "virtual-mta"
POOL = "virtual-mta-pool"
DOMAIN = "domain"

# --- value grammars (UG5 3.2 and each directive's "Syntax:") -----------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*"
# UG5 3.2 "DOMAIN pattern": *, domain, *.domain, [*.]domain (the CIDR form is never rendered).
DOMAIN_PATTERN = rf"(?:\*|(?:\[\*\.\]|\*\.)?{HOSTNAME})"
NAME = r"[a-z0-9][a-z0-9._-]*"  # our VMTA and pool names (slugs); PMTA needs one token without spaces
IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
IPV6 = r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*"
# "{ unlimited | 0 | N/[M]{d|day|h|hr|m|min|s|sec} }", N non-zero (UG5 3.3.10.33, 3.3.12.2).
RATE = r"(?:unlimited|0|[1-9]\d*/(?:[1-9]\d*)?(?:d|day|h|hr|m|min|s|sec))"
BOOLEAN = r"(?:yes|no|true|false)"  # UG5 3.2
ABS_PATH = r"/[A-Za-z0-9._/-]+"
# A queue-to target: a "domain" name for the grouped queue (UG5 10.9 uses "hotmail.queue").
QUEUE_NAME = rf"{_LABEL}(?:\.{_LABEL})*"
TIME_INTERVAL = r"(?:\d+[wdhms])+"  # UG5 3.2, e.g. 1w2d12h or 300s
SMTP_PATTERN_LIST = "smtp-pattern-list"
# UG5 3.3.15: reply /PATTERN/ ACTION-LIST. Only actions that keep the mail: never bounce-queue/bounce-rcpt.
REPLY = (
    r"/(?:[^/\\]|\\.)+/"
    rf"(?: (?:mode=(?:backoff|normal)|skip-mx|defer-queue|disable-source-ip|reenable-after={TIME_INTERVAL}))+"
)


@dataclass(frozen=True)
class Directive:
    name: str
    contexts: frozenset[str]
    grammar: str  # a regular expression the whole value must match
    section: str  # UG5 section(s)
    meaning: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.grammar, value) is not None


@dataclass(frozen=True)
class Block:
    tag: str
    parents: frozenset[str]  # contexts the block may open in
    grammar: str  # its argument
    section: str
    meaning: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.grammar, value) is not None


def _d(name: str, contexts: set[str], grammar: str, section: str, meaning: str) -> Directive:
    return Directive(name, frozenset(contexts), grammar, section, meaning)


def _b(tag: str, parents: set[str], grammar: str, section: str, meaning: str) -> Block:
    return Block(tag, frozenset(parents), grammar, section, meaning)


BLOCKS: dict[str, Block] = {
    b.tag: b
    for b in [
        _b(VMTA, {GLOBAL}, NAME, "UG5 3.3.12", "one VirtualMTA: one of our IPs"),
        _b(POOL, {GLOBAL}, NAME, "UG5 3.3.13", "a VirtualMTA pool, used round-robin"),
        _b(
            SMTP_PATTERN_LIST,
            {GLOBAL},
            NAME,
            "UG5 3.3.15",
            "patterns on SMTP replies that change a queue's mode",
        ),
        _b(
            DOMAIN,
            {GLOBAL, VMTA, POOL},
            DOMAIN_PATTERN,
            "UG5 3.3.10, 3.3.13.2",
            "settings for matching destination domains (per queue: domain/vmta)",
        ),
    ]
}

DIRECTIVES: dict[str, Directive] = {
    d.name: d
    for d in [
        _d("include", {GLOBAL}, ABS_PATH, "UG5 3.3.1.31", "read another config file"),
        _d(
            "smtp-source-host",
            {VMTA},
            rf"(?:{IPV4}|{IPV6}) {HOSTNAME}",
            "UG5 3.3.1.16",
            "the source IP and HELO name of the VirtualMTA's connections",
        ),
        _d(
            "max-smtp-msg-rate",
            {VMTA, POOL},
            RATE,
            "UG5 3.3.12.2, 3.3.13.5",
            "attempted recipients per interval over the whole VirtualMTA (all its queues)",
        ),
        _d(
            "domain-key",
            {GLOBAL, VMTA, POOL},
            rf"[A-Za-z0-9._-]+,{HOSTNAME},{ABS_PATH}",
            "UG5 3.3.1.33.1, 3.3.12.6",
            "load a DKIM key; VirtualMTA keys win over global ones; first matching key signs",
        ),
        _d("virtual-mta", {POOL}, NAME, "UG5 3.3.13.1", "a pool member"),
        _d(
            "dkim-sign",
            {DOMAIN},
            BOOLEAN,
            "UG5 3.3.10.19, 10.6.2",
            "sign with the loaded keys (default false)",
        ),
        _d(
            "queue-to",
            {DOMAIN},
            QUEUE_NAME,
            "UG5 3.3.10.31, 10.9",
            "put these domains' mail into one named queue, limited as one destination",
        ),
        _d(
            "smtp-hosts",
            {DOMAIN},
            rf"lookup-mx:{HOSTNAME}",
            "UG5 3.3.10.89, 10.9",
            "route a grouped queue through the MX of a named domain (required for queue-to)",
        ),
        _d(
            "max-msg-rate",
            {DOMAIN},
            RATE,
            "UG5 3.3.10.33",
            "attempted recipients per interval for one queue (domain/vmta)",
        ),
        # Reply rules as PMTA's backoff mode (warmup/pmta_backoff.py).
        _d(
            "reply", {SMTP_PATTERN_LIST}, REPLY, "UG5 3.3.15", "a reply pattern and what it does to the queue"
        ),
        _d(
            "smtp-pattern-list",
            {DOMAIN},
            NAME,
            "UG5 3.3.10.90",
            "the pattern list used for this domain's queues",
        ),
        _d(
            "backoff-max-msg-rate",
            {DOMAIN},
            RATE,
            "UG5 3.3.10.34",
            "max-msg-rate while the queue is in backoff mode",
        ),
        _d(
            "backoff-to-normal-after",
            {DOMAIN},
            rf"(?:never|{TIME_INTERVAL})",
            "UG5 3.3.10.44",
            "a backoff queue goes back to normal after this long",
        ),
    ]
}


class DirectiveError(ValueError):
    pass


def directive_line(name: str, value: str, *, context: str, indent: int = 0) -> str:
    """One directive line, refused unless the table allows ``name`` in ``context`` with this ``value``."""
    directive = DIRECTIVES.get(name)
    if directive is None:
        raise DirectiveError(f"{name} is not in the directive table")
    if context not in directive.contexts:
        raise DirectiveError(f"{name} is not allowed in {context} ({directive.section})")
    if not directive.matches(value):
        raise DirectiveError(f"{name} {value!r} does not match its grammar ({directive.section})")
    return " " * indent + f"{name} {value}"


def block_open(tag: str, value: str, *, context: str, indent: int = 0) -> str:
    block = BLOCKS.get(tag)
    if block is None:
        raise DirectiveError(f"<{tag}> is not in the block table")
    if context not in block.parents:
        raise DirectiveError(f"<{tag}> may not open in {context} ({block.section})")
    if not block.matches(value):
        raise DirectiveError(f"<{tag} {value}> does not match its grammar ({block.section})")
    return " " * indent + f"<{tag} {value}>"


def block_close(tag: str, *, indent: int = 0) -> str:
    return " " * indent + f"</{tag}>"


# --- the checker ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}: {self.text.strip()!r}"


_OPEN = re.compile(r"^<([a-z-]+)(?:\s+(.*?))?\s*>$")
_CLOSE = re.compile(r"^</([a-z-]+)\s*>$")


def _strip_comment(line: str) -> str:
    # UG5 3.1: "#" and everything after it is ignored. Our values never contain "#".
    return line.split("#", 1)[0].strip()


def config_check(files: dict[str, str]) -> list[ConfigProblem]:
    """Every problem in the rendered files ({name: text}); an empty list means every line is in the table.

    Beyond the line grammar it checks what PMTA would refuse or mis-route across lines: unbalanced blocks,
    pool members that are no VirtualMTA, a VMTA in two pools, a name used by both a VMTA and a pool (one name
    space, UG5 3.3.13), and a queue-to group without its own <domain> carrying smtp-hosts (UG5 10.9).
    """
    problems: list[ConfigProblem] = []
    vmtas: dict[str, tuple[str, int]] = {}
    pools: dict[str, tuple[str, int]] = {}
    members: list[tuple[str, str, int, str]] = []  # (member, file, line, pool)
    # Per VMTA (or "" globally): queue-to targets used, and grouped queues that carry smtp-hosts.
    queue_targets: list[tuple[str, str, str, int]] = []  # (scope, target, file, line)
    routed: set[tuple[str, str]] = set()

    for filename, text in sorted(files.items()):
        stack: list[tuple[str, str, int]] = []  # (tag, argument, line)
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _strip_comment(raw)
            if not line:
                continue

            def problem(reason: str, number: int = number, raw: str = raw, filename: str = filename) -> None:
                problems.append(ConfigProblem(filename, number, raw, reason))

            context = stack[-1][0] if stack else GLOBAL
            scope = next((arg for tag, arg, _ in reversed(stack) if tag in (VMTA, POOL)), "")
            if match := _CLOSE.match(line):
                tag = match.group(1)
                if not stack or stack[-1][0] != tag:
                    problem(f"</{tag}> closes nothing open")
                else:
                    stack.pop()
                continue
            if match := _OPEN.match(line):
                tag, value = match.group(1), (match.group(2) or "").strip()
                block = BLOCKS.get(tag)
                if block is None:
                    problem(f"<{tag}> is not in the block table")
                elif context not in block.parents:
                    problem(f"<{tag}> may not open inside {context} ({block.section})")
                elif not block.matches(value):
                    problem(f"<{tag}> argument {value!r} does not match its grammar ({block.section})")
                if tag in (VMTA, POOL):
                    seen = vmtas.get(value) or pools.get(value)
                    if seen:
                        problem(f"{value} is defined twice (first at {seen[0]}:{seen[1]}; UG5 3.3.13)")
                    (vmtas if tag == VMTA else pools)[value] = (filename, number)
                stack.append((tag, value, number))
                continue
            name, _, value = line.partition(" ")
            value = value.strip()
            directive = DIRECTIVES.get(name)
            if directive is None:
                problem(f"{name} is not in the directive table")
                continue
            if context not in directive.contexts:
                problem(f"{name} is not allowed in {context} ({directive.section})")
            if not directive.matches(value):
                problem(f"{name} value {value!r} does not match its grammar ({directive.section})")
            if name == "virtual-mta" and context == POOL:
                members.append((value, filename, number, stack[-1][1]))
            elif name == "queue-to":
                queue_targets.append((scope, value, filename, number))
            elif name == "smtp-hosts" and context == DOMAIN:
                routed.add((scope, stack[-1][1]))
        for tag, value, number in stack:
            problems.append(ConfigProblem(filename, number, f"<{tag} {value}>", f"<{tag}> is never closed"))

    member_of: dict[str, str] = {}
    for member, filename, number, pool in members:
        if member not in vmtas:
            problems.append(
                ConfigProblem(filename, number, member, f"pool {pool} names no VirtualMTA {member}")
            )
        elif member in member_of and member_of[member] != pool:
            problems.append(
                ConfigProblem(
                    filename, number, member, f"{member} is in pools {member_of[member]} and {pool}"
                )
            )
        member_of.setdefault(member, pool)
    for scope, target, filename, number in queue_targets:
        if (scope, target) not in routed and ("", target) not in routed:
            problems.append(
                ConfigProblem(
                    filename, number, target, f"queue {target} has no <domain> with smtp-hosts (UG5 10.9)"
                )
            )
    return problems
