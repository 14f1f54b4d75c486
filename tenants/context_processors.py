"""The signed-in user's Actor and the navigation menu, for every page (base.html)."""

import functools
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from tenants.access import Actor, actor_for

# Menu sections in display order. An app's nav.py names its section as the 4th element of an item; an item
# without one (or naming a section not listed here) lands in the last section, so nothing disappears.
NAV_GROUPS = ("Fleet", "Reputation", "Mail", "Account")


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool = False


@dataclass(frozen=True)
class NavGroup:
    name: str
    links: tuple[NavLink, ...]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


@functools.cache  # the installed apps and their nav.py are code: looked for once, not on every page
def _nav_items() -> tuple[tuple[str, ...], ...]:
    items: list[tuple[str, ...]] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.nav")
        except ModuleNotFoundError:
            continue
        items.extend(getattr(module, "ITEMS", []))
    return tuple(items)


def _visible(who: str, actor: Actor) -> bool:
    if who == "all":
        return True
    if who == "operator":
        return actor.is_operator
    if who == "tenant":
        return not actor.is_operator
    if who == "tenant_admin":
        return not actor.is_operator and actor.is_tenant_admin
    return False


def _current_url(path: str, urls: list[str]) -> str | None:
    """The menu entry the page belongs to: the longest entry URL that prefixes the path, so
    /reputation/providers/ highlights "Provider data" and not "Reputation". Home ("/") only on itself."""
    if path == "/":
        return "/"
    matches = [u for u in urls if u != "/" and path.startswith(u)]
    return max(matches, key=len) if matches else None


def nav_groups(path: str, actor: Actor) -> tuple[list[tuple[str, str]], list[NavGroup], bool]:
    """(flat (label, url) list, grouped sections with the current page marked, whether Home is current)."""
    entries: list[tuple[str, str, str]] = []
    for item in _nav_items():
        label, url_name, who = item[0], item[1], item[2]
        if not _visible(who, actor):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        group = item[3] if len(item) > 3 and item[3] in NAV_GROUPS else NAV_GROUPS[-1]
        entries.append((label, url, group))
    if actor.is_operator:
        entries.append(("Admin", reverse("admin:index"), NAV_GROUPS[-1]))
    elif actor.tenant_id:
        entries.append(("My tenant", reverse("tenant_detail", args=[actor.tenant_id]), NAV_GROUPS[-1]))
    current = _current_url(path, ["/", *(url for _, url, _ in entries)])
    groups = [
        NavGroup(name, tuple(NavLink(label, url, url == current) for label, url, g in entries if g == name))
        for name in NAV_GROUPS
    ]
    flat = [(label, url) for label, url, _ in entries]
    return flat, [g for g in groups if g.links], current == "/"


def actor(request: HttpRequest) -> dict:
    if not request.user.is_authenticated:
        return {}
    a = actor_for(request)
    flat, groups, home_current = nav_groups(request.path, a)
    return {"actor": a, "nav_items": flat, "nav_groups": groups, "nav_home_current": home_current}
