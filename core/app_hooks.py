"""Pages of a lower app that show what higher apps know (the IP page's cards, the IP list's columns, the
tenant page's sections) find it by module name, so imports still point down the floors.

An app opts in with a module ``<app>/<module_name>.py`` defining ``function``; a lower app asks
``app_hooks(module_name, function)`` and never imports the higher ones.
"""

from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.apps import apps


def app_hooks(module_name: str, function: str, *, skip: str = "") -> list[Callable[..., Any]]:
    """``function`` of every installed app's ``<app>.<module_name>`` module, in INSTALLED_APPS order
    (``skip``: the asking app itself)."""
    found = []
    for config in apps.get_app_configs():
        if config.name == skip:
            continue
        try:
            module = import_module(f"{config.name}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise
            continue
        provider = getattr(module, function, None)
        if provider is not None:
            found.append(provider)
    return found
