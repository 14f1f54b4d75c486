"""DKIM for PMTA: each tenant's keys loaded inside that tenant's VirtualMTAs, and the key files for the agent.

``domain-key SELECTOR,DOMAIN,PATH`` loads a key; PMTA signs with the first key whose domain equals or is
a parent of the Sender/From domain, and a VirtualMTA's keys win over global ones (UG5 3.3.1.33.1,
3.3.12.6). Signing itself needs ``dkim-sign`` (default false, UG5 3.3.10.19), which ips renders as
``dkim-sign yes`` in every VirtualMTA's ``<domain *>``. The keys go inside the tenant's own
``<virtual-mta>`` blocks, never at global level: mail another tenant sends with a From in this tenant's
domain is then never signed with this tenant's key.

Per domain the active key comes first (it signs); during a rotation the outgoing (retiring) key follows it, so
its file stays loadable until the grace period is over and the key is retired. The output is deterministic.
"""

from __future__ import annotations

import io
import tarfile

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When

from domains.models import DkimKey, KeyState, Ownership
from ips.models import MtaServer
from ips.pmta_directives import VMTA, directive_line

FRAGMENT_NAME = "emailengine-dkim.conf"
KEY_SUBDIR = "dkim"
SIGNING_STATES = (KeyState.ACTIVE, KeyState.RETIRING)
HEADER = (
    "# Email Engine: DKIM keys. Each tenant's keys are loaded inside its own <virtual-mta> blocks\n"
    "# (emailengine-vmtas.conf; UG5 3.3.12.6), so a domain is signed only on its own tenant's IPs, and\n"
    "# `dkim-sign yes` there turns signing on (UG5 3.3.10.19). Nothing here is loaded at global level.\n"
    "# Generated file - edit keys in Email Engine, not here.\n"
)


def include_dir() -> str:
    return settings.PMTA_INCLUDE_DIR.rstrip("/")


def key_dir() -> str:
    return f"{include_dir()}/{KEY_SUBDIR}"


def key_relpath(key: DkimKey) -> str:
    return f"{KEY_SUBDIR}/{key.domain.name}.{key.selector}.pem"


def key_path(key: DkimKey) -> str:
    return f"{include_dir()}/{key_relpath(key)}"


def signing_keys(server: MtaServer | None = None) -> QuerySet[DkimKey]:
    """Active and retiring keys (active first per domain), for every domain or for a server's tenants only."""
    # A domain whose ownership is still pending is not signed for: nobody has shown it is the tenant's.
    qs = (
        DkimKey.objects.filter(state__in=SIGNING_STATES)
        .exclude(domain__ownership=Ownership.PENDING)
        .select_related("domain")
    )
    if server is not None:
        qs = qs.filter(domain__tenant__pools__server=server).distinct()
    order = Case(When(state=KeyState.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.annotate(state_order=order).order_by("domain__name", "state_order", "selector")


# Kept for callers that list the keys a server signs with.
active_keys = signing_keys


def dkim_vmta_lines(server: MtaServer) -> dict[int, list[str]]:
    """{tenant id: domain-key lines} for ips to put inside each of that tenant's VirtualMTAs on ``server``."""
    lines: dict[int, list[str]] = {}
    for key in signing_keys(server):
        value = f"{key.selector},{key.domain.name},{key_path(key)}"
        lines.setdefault(key.domain.tenant_id, []).append(
            directive_line("domain-key", value, context=VMTA, indent=4)
        )
    return lines


def bundle_key_files(server: MtaServer) -> dict[str, str]:
    """{path relative to the include dir: private key PEM}: only the keys of domains ``server`` signs."""
    return {key_relpath(key): key.private_key for key in signing_keys(server)}


def render_dkim_fragment(server: MtaServer | None = None) -> str:
    keys = list(signing_keys(server))
    if not keys:
        return HEADER + "# (no DKIM keys to sign with)\n"
    lines = []
    for key in keys:
        note = "signs" if key.state == KeyState.ACTIVE else "outgoing, loadable until retired"
        lines.append(f"# {key.domain.name} selector {key.selector} ({note}): {key_path(key)}")
    return HEADER + "\n".join(lines) + "\n"


def export_key_files(server: MtaServer | None = None) -> dict[str, str]:
    """{absolute path on the PMTA host: private key PEM} for every key the VirtualMTAs load."""
    return {key_path(key): key.private_key for key in signing_keys(server)}


def key_files_tarball(server: MtaServer | None = None) -> tuple[bytes, int]:
    """A .tar.gz with the fragment and the key files under their PMTA paths (relative, without "/")."""
    files = export_key_files(server)
    fragment_path = include_dir() + "/" + FRAGMENT_NAME
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, fragment_path.lstrip("/"), render_dkim_fragment(server), mode=0o644)
        for path, pem in sorted(files.items()):
            # PMTA needs to read the key; nobody else should.
            _add(tar, path.lstrip("/"), pem, mode=0o600)
    return buffer.getvalue(), len(files)


def _add(tar: tarfile.TarFile, name: str, text: str, *, mode: int) -> None:
    data = text.encode("ascii")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))
