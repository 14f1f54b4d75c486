from importlib import import_module

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from tenants.access import Actor, actor_for


def _nav_items() -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.nav")
        except ModuleNotFoundError:
            continue
        items.extend(getattr(module, "ITEMS", []))
    return items


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


def actor(request: HttpRequest) -> dict:
    if not request.user.is_authenticated:
        return {}
    a = actor_for(request)
    nav = []
    for label, url_name, who in _nav_items():
        if _visible(who, a):
            try:
                nav.append((label, reverse(url_name)))
            except NoReverseMatch:
                continue
    return {"actor": a, "nav_items": nav}
