"""Mailbox provider groups: which recipient domains PMTA limits together as one provider (UG5 10.9).

An IP's ``provider_limits`` are keyed by group name (``{"gmail": {"daily": 500, "hourly": 42}}``); the
renderer puts a group's domains into one queue per VirtualMTA with ``queue-to`` so one ``max-msg-rate`` bounds
the whole provider, however its recipients spread over gmail.com and googlemail.com.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from core.audit import audit_record
from ips.models import ProviderGroup

# The provider groups a fresh install starts with (ips migration 0003 and seed_demo create them; operators
# edit them on /providers/). Each group's domains share one provider's inbound MX farm, so its grouped queue
# can go to one MX (UG5 10.9, 3.3.10.89): (name, label, MX domain, domains).
DEFAULT_GROUPS: list[tuple[str, str, str, list[str]]] = [
    ("gmail", "Gmail", "gmail.com", ["gmail.com", "googlemail.com"]),
    (
        "microsoft",
        "Microsoft (Outlook.com)",
        "hotmail.com",
        [
            "hotmail.com",
            "outlook.com",
            "live.com",
            "msn.com",
            "hotmail.fr",
            "live.fr",
            "outlook.fr",
            "hotmail.co.uk",
            "live.co.uk",
        ],
    ),
    (
        "yahoo",
        "Yahoo / AOL",
        "yahoo.com",
        ["yahoo.com", "yahoo.fr", "ymail.com", "rocketmail.com", "aol.com", "aol.fr", "yahoo.co.uk"],
    ),
    ("orange", "Orange", "orange.fr", ["orange.fr", "wanadoo.fr"]),
    ("free", "Free", "free.fr", ["free.fr"]),
    ("sfr", "SFR", "sfr.fr", ["sfr.fr", "neuf.fr"]),
    ("laposte", "La Poste", "laposte.net", ["laposte.net"]),
]

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
MAX_DOMAINS = 200


class ProviderGroupError(ValueError):
    pass


@dataclass(frozen=True)
class ProviderIndex:
    """The groups and a domain -> group lookup, loaded once per render."""

    groups: dict[str, ProviderGroup]
    by_domain: dict[str, ProviderGroup]

    def resolve(self, key: str) -> ProviderGroup | None:
        key = key.strip().lower()
        return self.groups.get(key) or self.by_domain.get(key)


def provider_index() -> ProviderIndex:
    groups = {g.name: g for g in ProviderGroup.objects.order_by("name")}
    by_domain: dict[str, ProviderGroup] = {}
    for group in groups.values():
        for domain in group.domains:
            by_domain.setdefault(domain, group)
    return ProviderIndex(groups=groups, by_domain=by_domain)


def provider_groups_seed(model: type[ProviderGroup] = ProviderGroup) -> int:
    """Create the default groups missing (by name); never changes an edited one. Returns how many."""
    created = 0
    for name, label, mx_domain, domains in DEFAULT_GROUPS:
        _group, made = model.objects.get_or_create(
            name=name, defaults={"label": label, "mx_domain": mx_domain, "domains": domains}
        )
        created += made
    return created


def parse_domains(text: str) -> list[str]:
    """Domains from a textarea (one per line, or separated by commas/spaces): lowercase, unique, sorted."""
    found: list[str] = []
    for item in re.split(r"[\s,;]+", text.strip().lower()):
        item = item.rstrip(".")
        if not item:
            continue
        if not _DOMAIN.match(item):
            raise ProviderGroupError(f"{item!r} is not a domain name (ASCII, e.g. orange.fr)")
        if item not in found:
            found.append(item)
    if not found:
        raise ProviderGroupError("Enter at least one domain.")
    if len(found) > MAX_DOMAINS:
        raise ProviderGroupError(f"At most {MAX_DOMAINS} domains per group.")
    return sorted(found)


def _check_overlap(domains: list[str], group_pk: int | None) -> None:
    others = ProviderGroup.objects.all() if group_pk is None else ProviderGroup.objects.exclude(pk=group_pk)
    for other in others:
        shared = sorted(set(domains) & set(other.domains))
        if shared:
            raise ProviderGroupError(f"{', '.join(shared)} already in the {other.name} group")


@transaction.atomic
def provider_group_save(
    *, by, name: str, label: str, domains_text: str, mx_domain: str, group: ProviderGroup | None = None
) -> ProviderGroup:
    """Create or change a group; every domain in one group at most; audited."""
    domains = parse_domains(domains_text)
    mx = mx_domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(mx):
        raise ProviderGroupError(f"MX domain {mx_domain!r} is not a domain name")
    _check_overlap(domains, group.pk if group else None)
    before = None
    if group is None:
        if ProviderGroup.objects.filter(name=name).exists():
            raise ProviderGroupError(f"a group named {name} already exists")
        group = ProviderGroup(name=name)
    else:
        before = {"label": group.label, "domains": group.domains, "mx_domain": group.mx_domain}
    group.label, group.domains, group.mx_domain = label.strip() or name, domains, mx
    group.save()
    audit_record(
        action="provider_group.save",
        by=by,
        obj=group,
        before=before,
        after={"label": group.label, "domains": domains, "mx_domain": mx},
    )
    return group


@transaction.atomic
def provider_group_delete(*, by, group: ProviderGroup) -> None:
    audit_record(
        action="provider_group.delete",
        by=by,
        obj=group,
        before={"name": group.name, "domains": group.domains, "mx_domain": group.mx_domain},
    )
    group.delete()
