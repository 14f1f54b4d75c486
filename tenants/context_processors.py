from django.http import HttpRequest

from tenants.access import actor_for


def actor(request: HttpRequest) -> dict:
    if not request.user.is_authenticated:
        return {}
    a = actor_for(request)
    return {"actor": a}
