"""The PMTA config fragment that makes PMTA sign with each domain's active DKIM key.

PMTA reads ``domain-key SELECTOR,DOMAIN,PATH`` (PMTA 5 User's Guide 3.3); the first key matching the
From/Sender domain wins, so exactly one line per domain (its active key) keeps signing unambiguous.
Retiring keys stay in DNS for verifiers but are no longer used to sign, so they are not listed.
The output is deterministic (sorted, no timestamps) so a config diff shows only real changes.
"""

from __future__ import annotations

import io
import tarfile

from django.conf import settings
from django.db.models import QuerySet

from domains.models import DkimKey, KeyState, Ownership
from ips.models import MtaServer

FRAGMENT_NAME = "emailengine-dkim.conf"
HEADER = (
    "# Email Engine: DKIM signing keys, one per sending domain (its active key).\n"
    "# Generated file - edit keys in Email Engine, not here.\n"
)


def key_dir() -> str:
    return settings.PMTA_INCLUDE_DIR.rstrip("/") + "/dkim"


def key_path(key: DkimKey) -> str:
    return f"{key_dir()}/{key.domain.name}.{key.selector}.pem"


def active_keys(server: MtaServer | None = None) -> QuerySet[DkimKey]:
    """Active keys, for every domain or only for domains whose tenant has a pool on ``server``."""
    # A domain whose ownership is still pending is not signed for: nobody has shown it is the tenant's.
    qs = (
        DkimKey.objects.filter(state=KeyState.ACTIVE)
        .exclude(domain__ownership=Ownership.PENDING)
        .select_related("domain")
    )
    if server is not None:
        qs = qs.filter(domain__tenant__pools__server=server).distinct()
    return qs.order_by("domain__name", "selector")


def render_dkim_fragment(server: MtaServer | None = None) -> str:
    lines = [f"domain-key {key.selector},{key.domain.name},{key_path(key)}" for key in active_keys(server)]
    if not lines:
        return HEADER + "# (no active DKIM keys)\n"
    return HEADER + "\n".join(lines) + "\n"


def export_key_files(server: MtaServer | None = None) -> dict[str, str]:
    """{absolute path on the PMTA host: private key PEM} for every key the fragment names."""
    return {key_path(key): key.private_key for key in active_keys(server)}


def key_files_tarball(server: MtaServer | None = None) -> tuple[bytes, int]:
    """A .tar.gz with the fragment and the key files under their PMTA paths (relative, without "/")."""
    files = export_key_files(server)
    fragment_path = key_dir().rsplit("/", 1)[0] + "/" + FRAGMENT_NAME
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
