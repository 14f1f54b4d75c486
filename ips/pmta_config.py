"""PowerMTA config fragments for one server, rendered from the inventory. Every line is a row of the
directive table in ``ips.pmta_directives`` (name, contexts, grammar, UG5 section); ``config_check`` reads
the result back.

The operator's own /etc/pmta/config keeps everything host-specific and adds one line:

    include /etc/pmta/emailengine/emailengine.conf

``emailengine.conf`` then includes one fragment per concern: ``emailengine-vmtas.conf`` (rendered here) and
whatever other apps register with ``register_fragment``. Other apps add lines inside each tenant's
``<virtual-mta>`` with ``register_vmta_lines`` (domains: the tenant's DKIM keys) and secret files to the
agent's bundle with ``register_bundle_files`` (domains: the key files), so ``ips`` never imports them.

What the vmtas fragment says, and why:
- one ``<virtual-mta NAME>`` per IP with ``smtp-source-host IP HOSTNAME`` (UG5 3.3.1.16, 3.3.12);
- the IP's daily and hourly caps as one ``max-smtp-msg-rate`` (UG5 3.3.12.2), which counts attempts over
  the whole VirtualMTA, every queue of it. PMTA takes one rate per VirtualMTA, so a daily *and* an hourly
  cap become one "N per M hours" that stays within both (``combined_rate``); where that sends less than the
  daily cap the render says so. ``max-msg-rate`` inside ``<domain *>`` would count each destination domain
  separately (UG5 3.3.10.33, 10.7), so it is never used for an IP cap;
- provider caps: the provider's domains go into one queue per VirtualMTA with ``queue-to`` (UG5 3.3.10.31,
  10.9: "group together different email domains into a single large queue ... any <domain> based controls
  such as max-msg-rate"), delivered through one MX (``smtp-hosts lookup-mx:``, UG5 3.3.10.89, required for
  a grouped queue), and that queue carries the provider's ``max-msg-rate``. Groups: ``ProviderGroup``;
- DKIM: ``dkim-sign yes`` in ``<domain *>`` of every VirtualMTA (UG5 3.3.10.19: the default is false; the
  example of 3.3.12) and the tenant's ``domain-key`` lines inside the VirtualMTA (UG5 3.3.12.6), so a domain
  is only ever signed on its own tenant's IPs;
- holds: an IP that may not send (paused by hand, by a listing or by a reply rule; new; retired) stays a
  defined VirtualMTA, because PMTA rejects mail for an unknown one at injection
  (``reject-invalid-virtual-mta``, default true, UG5 3.3.7.31); it gets ``max-smtp-msg-rate 0`` (no
  attempts) and its queues are paused by the agent (``pmta pause queue */VMTA``, UG5 6.3.23). It leaves its
  pool while the pool has an IP that may send, so new pool mail goes there; a pool whose IPs are all held
  keeps them, so its mail is queued, not rejected.

Output is deterministic (sorted, no timestamps), so an unchanged inventory gives byte-identical files and
the same digest; each file starts with a comment naming the server and the digest of its body.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from core.audit import audit_record, author_parts
from ips.models import IPAddress, IPPool, MtaServer, PmtaConfigRender, ProviderGroup
from ips.pmta_directives import DOMAIN, GLOBAL, POOL, VMTA, block_close, block_open, directive_line
from ips.providers import ProviderIndex, provider_index

if TYPE_CHECKING:
    from core.audit import Author

__all__ = [
    "MAIN_FILE",
    "VMTAS_FILE",
    "combined_rate",
    "config_diff",
    "config_digest",
    "config_render_and_store",
    "register_bundle_files",
    "register_fragment",
    "register_vmta_lines",
    "registered_fragments",
    "render_server_config",
    "unregister_fragment",
]

MAIN_FILE = "emailengine.conf"
VMTAS_FILE = "emailengine-vmtas.conf"

FragmentRenderer = Callable[[MtaServer], str]
# server -> {tenant id: lines to put inside each of that tenant's <virtual-mta> blocks}
VmtaLinesRenderer = Callable[[MtaServer], dict[int, list[str]]]
# server -> {path relative to the include dir: file content}; secrets the agent writes 0600
BundleFilesRenderer = Callable[[MtaServer], dict[str, str]]

# name -> renderer. Plain dicts: registration happens once per process, from AppConfig.ready().
_FRAGMENTS: dict[str, FragmentRenderer] = {}
_VMTA_LINES: dict[str, VmtaLinesRenderer] = {}
_BUNDLE_FILES: dict[str, BundleFilesRenderer] = {}

_FRAGMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*\.conf$")
# What PMTA accepts unquoted as a host name or a <domain> pattern ("*", "*.example.com", "[*.]example.com").
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_DOMAIN_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


# --- registries ----------------------------------------------------------------------------------------


def register_fragment(name: str, render_fn: FragmentRenderer) -> None:
    """Add a config fragment file to every server's render; ``render_fn(server)`` returns its body.

    ``name`` is the file name (``emailengine-dkim.conf``); ``emailengine.conf`` includes it. Registering
    the same name again replaces the renderer.
    """
    if not _FRAGMENT_NAME.match(name) or name in (MAIN_FILE, VMTAS_FILE):
        raise ValueError(f"invalid or reserved fragment name: {name!r}")
    _FRAGMENTS[name] = render_fn


def unregister_fragment(name: str) -> None:
    _FRAGMENTS.pop(name, None)


def registered_fragments() -> list[str]:
    return sorted(_FRAGMENTS)


def register_vmta_lines(name: str, render_fn: VmtaLinesRenderer) -> None:
    """Lines (made with ``directive_line(..., context=VMTA)``) inside every VirtualMTA of a tenant."""
    _VMTA_LINES[name] = render_fn


def register_bundle_files(name: str, render_fn: BundleFilesRenderer) -> None:
    """Secret files for the agent's bundle (never stored in a render: fetched from the database each time)."""
    _BUNDLE_FILES[name] = render_fn


def bundle_secret_files(server: MtaServer) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in sorted(_BUNDLE_FILES):
        files.update(_BUNDLE_FILES[name](server))
    return dict(sorted(files.items()))


# --- rendering -----------------------------------------------------------------------------------------


def include_dir() -> str:
    """Where the fragments live on the PMTA host (setting PMTA_INCLUDE_DIR)."""
    return settings.PMTA_INCLUDE_DIR.rstrip("/")


def _body_digest(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def _with_header(server: MtaServer, filename: str, body: str) -> str:
    host = f" ({server.hostname})" if server.hostname else ""
    header = (
        f"# {filename}: generated by Email Engine for PMTA server {server.name}{host}.\n"
        "# Do not edit: the next render overwrites it. Apply with `pmta reload`.\n"
        f"# content digest: {_body_digest(body)}\n"
    )
    return header + "\n" + body


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# Windows that divide a day, so "N per M hours" repeats a whole number of times a day.
_WINDOWS_H = (1, 2, 3, 4, 6, 8, 12, 24)


def combined_rate(daily: int | None, hourly: int | None) -> tuple[str | None, str]:
    """One PMTA rate (UG5 3.3.10.33 grammar) within both caps, and a note when it sends less than the cap.

    PMTA takes one rate per scope, so a daily cap D and an hourly cap H become "N per M hours" with N <= H
    (never more than the hourly cap in any hour) and N * 24/M <= D (never more than the daily cap in a day),
    choosing the window that lets the most through in a day (the smoothest among equals). Where no such rate
    reaches D exactly, it rounds toward sending less and says so. Only one cap: that cap. None: no cap.
    """
    if daily is None and hourly is None:
        return None, ""
    if daily == 0 or hourly == 0:
        return "0", "a cap of 0: no attempts"
    if daily is None:
        return f"{hourly}/h", ""
    if hourly is None:
        return f"{daily}/d", ""
    if hourly * 24 <= daily:
        note = "" if hourly * 24 == daily else f"the hourly cap binds: at most {hourly * 24} of {daily}/day"
        return f"{hourly}/h", note
    best: tuple[int, int, int] | None = None  # (per day, -window, n)
    for window in _WINDOWS_H:
        n = min(hourly, daily * window // 24)
        if n == 0:
            continue
        candidate = (n * 24 // window, -window, n)
        if best is None or candidate > best:
            best = candidate
    assert best is not None  # window 24 always gives n = min(hourly, daily) >= 1
    per_day, neg_window, n = best
    window = -neg_window
    value = f"{n}/h" if window == 1 else f"{n}/{window}h"
    note = f"daily {daily} and hourly {hourly} as one rate: {n} per {window}h, at most {n} in any hour"
    if per_day < daily:
        note += f"; {per_day}/day, rounded down from {daily} (PMTA takes one rate, UG5 3.3.12.2)"
    else:
        note += f", {per_day}/day"
    return value, note


def _provider_blocks(ip: IPAddress, index: ProviderIndex, indent: int) -> list[str]:
    """<domain> blocks inside one VirtualMTA for its provider caps; grouped domains share one queue."""
    limits = ip.provider_limits if isinstance(ip.provider_limits, dict) else {}
    pad = " " * indent
    # Several keys may name one group (a group and one of its domains): the smallest of each cap wins.
    grouped: dict[str, tuple[ProviderGroup | str | None, dict[str, int | None]]] = {}
    for key in sorted(limits, key=str):
        raw = limits[key]
        if not isinstance(raw, dict):
            continue
        caps = {"daily": _int_or_none(raw.get("daily")), "hourly": _int_or_none(raw.get("hourly"))}
        if caps["daily"] is None and caps["hourly"] is None:
            continue
        text = str(key).strip().lower()
        found = index.resolve(text)
        target: ProviderGroup | str
        if found is not None:
            slot, target = found.name, found
        elif _DOMAIN_NAME.match(text):
            slot, target = text, text
        else:
            grouped.setdefault(f"!{text}", (None, caps))
            continue
        _, seen = grouped.setdefault(slot, (target, {"daily": None, "hourly": None}))
        for cap in ("daily", "hourly"):
            values = [v for v in (seen[cap], caps[cap]) if v is not None]
            seen[cap] = min(values) if values else None

    lines: list[str] = []
    for slot in sorted(grouped):
        slot_target, caps = grouped[slot]
        if slot_target is None:
            lines.append(f"{pad}# provider limit {slot[1:]!r} skipped: neither a provider group nor a domain")
            continue
        rate, note = combined_rate(caps["daily"], caps["hourly"])
        assert rate is not None
        if isinstance(slot_target, str):
            # One domain is one queue already (domain/vmta), so its own max-msg-rate is exact.
            lines.append(f"{pad}# provider cap for {slot_target} (not in a provider group)")
            lines.append(block_open(DOMAIN, slot_target, context=VMTA, indent=indent))
        else:
            group = slot_target
            queue = group.queue_name
            domains = list(group.domains)
            lines.append(f"{pad}# provider {group.name}: {len(domains)} domains in one queue {queue}")
            for domain in domains:
                lines.append(block_open(DOMAIN, domain, context=VMTA, indent=indent))
                lines.append(directive_line("queue-to", queue, context=DOMAIN, indent=indent + 4))
                lines.append(block_close(DOMAIN, indent=indent))
            lines.append(block_open(DOMAIN, queue, context=VMTA, indent=indent))
            mx = group.mx_domain
            lines.append(directive_line("smtp-hosts", f"lookup-mx:{mx}", context=DOMAIN, indent=indent + 4))
            lines.append(directive_line("dkim-sign", "yes", context=DOMAIN, indent=indent + 4))
        if note:
            lines.append(f"{pad}    # {note}")
        lines.append(directive_line("max-msg-rate", rate, context=DOMAIN, indent=indent + 4))
        lines.append(block_close(DOMAIN, indent=indent))
    return lines


def _source_host(ip: IPAddress, server: MtaServer) -> tuple[str, list[str]]:
    hostname = ip.hostname.strip().rstrip(".")
    notes: list[str] = []
    if hostname and not _HOSTNAME.match(hostname):
        notes.append(f"    # hostname {_one_line(hostname)!r} is not a valid host name; using a fallback")
        hostname = ""
    if not hostname:
        fallback = server.hostname.strip().rstrip(".")
        hostname = fallback if fallback and _HOSTNAME.match(fallback) else ip.address
    return hostname, notes


def _vmta_block(ip: IPAddress, server: MtaServer, index: ProviderIndex, extra: list[str]) -> list[str]:
    hostname, notes = _source_host(ip, server)
    lines = [block_open(VMTA, ip.vmta_name, context=GLOBAL), *notes]
    lines.append(directive_line("smtp-source-host", f"{ip.address} {hostname}", context=VMTA, indent=4))
    if ip.can_send():
        rate, note = combined_rate(ip.daily_limit, ip.hourly_limit)
        if rate is not None:
            if note:
                lines.append(f"    # {note}")
            lines.append(directive_line("max-smtp-msg-rate", rate, context=VMTA, indent=4))
    else:
        reason = f" ({_one_line(ip.status_reason)})" if ip.status_reason else ""
        lines.append(f"    # held: {ip.status}{reason}. Mail waits in the queue; nothing is attempted.")
        lines.append(directive_line("max-smtp-msg-rate", "0", context=VMTA, indent=4))
    lines += extra
    lines += [
        block_open(DOMAIN, "*", context=VMTA, indent=4),
        directive_line("dkim-sign", "yes", context=DOMAIN, indent=8),
        block_close(DOMAIN, indent=4),
    ]
    lines += _provider_blocks(ip, index, indent=4)
    lines.append(block_close(VMTA))
    return lines


def _one_line(text: str) -> str:
    """Operator text inside a comment: a newline would end the comment and start a directive."""
    return " ".join(text.split())


def _commented(lines: list[str]) -> list[str]:
    return ["# " + line for line in lines]


def _vmta_extra_lines(server: MtaServer) -> dict[int, list[str]]:
    merged: dict[int, list[str]] = {}
    for name in sorted(_VMTA_LINES):
        for tenant_id, lines in _VMTA_LINES[name](server).items():
            merged.setdefault(tenant_id, []).extend(lines)
    return merged


def _render_vmtas(server: MtaServer) -> str:
    ips = list(
        IPAddress.objects.filter(server=server).select_related("pool").order_by("vmta_name", "address")
    )
    pools = list(IPPool.objects.filter(server=server).select_related("tenant").order_by("name"))
    index = provider_index()
    extra = _vmta_extra_lines(server)
    out: list[str] = ["# --- virtual MTAs: one per IP (UG5 3.3.12) ---", ""]
    if not ips:
        out += ["# (this server has no IPs yet)", ""]
    for ip in ips:
        tenant_id = ip.pool.tenant_id if ip.pool_id else None  # type: ignore[union-attr]
        tenant_lines = extra.get(tenant_id, []) if tenant_id else []
        out += _vmta_block(ip, server, index, tenant_lines)
        out.append("")

    vmta_names = {ip.vmta_name for ip in ips}
    out += ["# --- virtual MTA pools: one per IP pool (UG5 3.3.13) ---", ""]
    if not pools:
        out += ["# (this server has no pools yet)", ""]
    for pool in pools:
        members = [ip for ip in ips if ip.pool_id == pool.pk]
        sending = [ip for ip in members if ip.can_send()]
        held = [ip for ip in members if not ip.can_send()]
        owner = f"tenant {pool.tenant.slug}" if pool.tenant else "no tenant"
        out.append(f"# pool {pool.name} ({owner}): {len(sending)} sending of {len(members)} IPs")
        listed = sending
        if sending:
            for ip in held:
                out.append(f"#   left out while held: {ip.vmta_name} ({ip.address}, {ip.status})")
        elif held:
            out.append("#   every IP is held: they stay members so the pool's mail is queued, not rejected")
            listed = held
        block = [block_open(POOL, pool.name, context=GLOBAL)]
        block += [directive_line("virtual-mta", ip.vmta_name, context=POOL, indent=4) for ip in listed]
        block.append(block_close(POOL))
        if pool.name in vmta_names:
            # Pools and virtual MTAs share one name space in PMTA (UG5 3.3.13).
            out.append(f"# a virtual-mta is also named {pool.name}, so the pool is disabled:")
            out += _commented(block)
        elif listed:
            out += block
        else:
            out.append("# no IPs at all: nothing could send or hold its mail, so the pool is disabled:")
            out += _commented(block)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _render_main(fragment_names: list[str]) -> str:
    base = include_dir()
    lines = ["# Add `include " + base + "/" + MAIN_FILE + "` to /etc/pmta/config once.", ""]
    lines += [directive_line("include", f"{base}/{name}", context=GLOBAL) for name in fragment_names]
    return "\n".join(lines) + "\n"


def render_server_config(server: MtaServer) -> dict[str, str]:
    """Every config file for ``server``: {filename: text}, sorted by name, deterministic."""
    bodies: dict[str, str] = {VMTAS_FILE: _render_vmtas(server)}
    for name in sorted(_FRAGMENTS):
        body = _FRAGMENTS[name](server)
        bodies[name] = body if body.endswith("\n") else body + "\n"
    bodies[MAIN_FILE] = _render_main([VMTAS_FILE, *sorted(_FRAGMENTS)])
    return {name: _with_header(server, name, bodies[name]) for name in sorted(bodies)}


def config_digest(files: dict[str, str]) -> str:
    """One digest over every file name and text, order-independent."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return "sha256:" + h.hexdigest()


def config_diff(old: dict[str, str], new: dict[str, str]) -> str:
    """A unified diff of every file that changed, was added or removed ("" when identical)."""
    chunks: list[str] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        lines = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}" if after is not None else "/dev/null",
        )
        chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(chunks)


def diff_stats(diff: str) -> tuple[int, int]:
    """(lines added, lines removed) in a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def latest_render(server: MtaServer) -> PmtaConfigRender | None:
    return PmtaConfigRender.objects.filter(server=server).order_by("-version").first()


@transaction.atomic
def config_render_and_store(*, server: MtaServer, by: Author) -> tuple[PmtaConfigRender, str]:
    """Render ``server``'s config and save it when it differs from the last saved render.

    Returns (the render now current, unified diff against the previous one). When nothing changed, that is
    the previous render and an empty diff, and nothing is written or audited.
    """
    # Lock the server row so two concurrent renders cannot both decide they are "the new one".
    MtaServer.objects.select_for_update().filter(pk=server.pk).first()
    files = render_server_config(server)
    digest = config_digest(files)
    previous = latest_render(server)
    if previous is not None and previous.digest == digest:
        return previous, ""
    diff = config_diff(previous.files if previous else {}, files)
    label = author_parts(by)[1]
    version = (previous.version if previous else 0) + 1
    render = PmtaConfigRender.objects.create(
        server=server, created_by=label[:150], files=files, digest=digest, version=version
    )
    added, removed = diff_stats(diff)
    audit_record(
        action="server.config_render",
        by=by,
        obj=server,
        before={
            "digest": previous.digest if previous else None,
            "version": previous.version if previous else None,
        },
        after={
            "digest": digest,
            "version": version,
            "files": sorted(files),
            "lines_added": added,
            "lines_removed": removed,
        },
    )
    return render, diff
