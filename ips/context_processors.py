"""What base.html shows operators on every page: servers whose PMTA runs an older config than desired."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from ips.selectors import servers_config_behind
from tenants.access import actor_for


def config_drift(request: HttpRequest) -> dict:
    """`config_behind`: [(server, ConfigState)] for operators, [] for everyone else.

    Lazy, so its one query runs only when a template reads it: full pages (base.html's banner) pay it, htmx
    partials and JSON responses do not.
    """
    if not request.user.is_authenticated or not actor_for(request).is_operator:
        return {"config_behind": []}
    return {"config_behind": SimpleLazyObject(servers_config_behind)}
