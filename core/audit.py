"""The audit log: every mutation anywhere calls audit_record() once."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from core.bulk import bulk_insert_values
from core.models import AuditEvent

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
# Set for the length of a request made with an API token ("api token: <label>"), so the events it causes
# name the user as actor and the token as the way they acted.
request_via: ContextVar[str] = ContextVar("request_via", default="")


def request_context() -> tuple[str | None, str]:
    """The current request's client address and ``via``, for work it leaves to a background job."""
    return request_ip.get(), request_via.get()


@contextmanager
def acting_for_request(*, ip: str | None, via: str) -> Iterator[None]:
    """Audit events written inside carry the address and ``via`` of the request that queued the work
    (``request_context()`` then), as if that request had written them."""
    ip_token, via_token = request_ip.set(ip), request_via.set(via)
    try:
        yield
    finally:
        request_via.reset(via_token)
        request_ip.reset(ip_token)


# Who made a change (the `by=` of every service): a signed-in user, or a label naming a schedule
# ("system: warmup ramp"). Views pass request.user, typed User | AnonymousUser; every page that changes
# something needs a login, and an anonymous author would be recorded by label alone.
# (tenants.access.Actor is something else: the request's viewer, with tenant scope and role.)
Author = User | AnonymousUser | str


def author_parts(by: Author | None) -> tuple[User | None, str]:
    """The user to link (None for a schedule) and the label kept even if the user is deleted later."""
    if by is None:
        return None, "system"
    if isinstance(by, str):
        return None, by or "system"
    if isinstance(by, AnonymousUser):
        return None, "anonymous"
    return by, by.get_username()


def audit_record(
    *,
    action: str,
    by: Author | None,
    obj: models.Model | None = None,
    # A tenants.Tenant (core sits below tenants, so it is typed by its base class here).
    tenant: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Write one audit event. `by` is a user, or a label such as "system: warmup" for schedules."""
    actor, label = author_parts(by)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=label[:150],
        tenant_id=_tenant_id(tenant, obj),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        ip_address=request_ip.get(),
        via=request_via.get()[:150],
    )


def _tenant_id(tenant: models.Model | None, obj: models.Model | None) -> int | None:
    """The tenant an event belongs to: the one given, else the object itself or the tenant it belongs to."""
    if tenant is not None:
        return tenant.pk
    if obj is None:
        return None
    if obj._meta.model is AuditEvent._meta.get_field("tenant").related_model:
        return obj.pk
    return getattr(obj, "tenant_id", None)


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        k: v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)
        for k, v in value.items()
    }


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The before/after picture of the fields a mutation touches."""
    return {f: getattr(obj, f) for f in fields}


def audit_bulk(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Write many audit events in one query (schedules that touch thousands of objects at once).

    Each dict takes the keyword arguments of audit_record().
    """
    ip, via = request_ip.get(), request_via.get()[:150]
    rows = []
    for e in events:
        by, obj = e.get("by"), e.get("obj")
        actor, label = author_parts(by)
        rows.append(
            AuditEvent(
                actor=actor,
                actor_label=label[:150],
                tenant_id=_tenant_id(e.get("tenant"), obj),
                action=e["action"],
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
                object_repr=str(obj)[:200] if obj is not None else "",
                before=_jsonable(e.get("before")),
                after=_jsonable(e.get("after")),
                reason=e.get("reason", ""),
                ip_address=ip,
                via=via,
            )
        )
    bulk_insert_values(rows)
    return rows
