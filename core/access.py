"""The access-helper base: a queryset limited to what a viewer may see, and one object fetched inside it.

It knows no model and no request: a viewer is anything that says whether it is an operator, which tenant
it belongs to and whether it may change that tenant's data (tenants.access.Actor, from a request's user).
Outside the scope is a 404, never a 403 that would confirm the object exists; a 403 is only for an object
the viewer can see but not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404


class Viewer(Protocol):
    @property
    def is_operator(self) -> bool: ...

    @property
    def tenant_id(self) -> int | None: ...

    @property
    def can_manage_tenant_data(self) -> bool: ...


@dataclass(frozen=True)
class ReadScope:
    """What ``scoped`` reads of a viewer, hashable: a statement compiled once (core.compiled) is kept per
    scope, not per user. For reads only: it may change nothing."""

    is_operator: bool
    tenant_id: int | None

    @property
    def can_manage_tenant_data(self) -> bool:
        return False

    @classmethod
    def of(cls, viewer: Viewer) -> ReadScope:
        return cls(viewer.is_operator, viewer.tenant_id)


def scoped[M: Model](viewer: Viewer, qs: QuerySet[M], tenant_field: str = "tenant") -> QuerySet[M]:
    """Operators see every row; a tenant's users see their tenant's rows; anyone else sees none.

    `tenant_field` is the path from a row to its tenant ("tenant", "pool__tenant"), compared through its id
    column (some rows keep a bare `tenant_id` integer); "pk" scopes the tenant rows themselves.
    """
    if viewer.is_operator:
        return qs
    if viewer.tenant_id is None:
        return qs.none()
    lookup = "pk" if tenant_field == "pk" else f"{tenant_field}_id"
    return qs.filter(**{lookup: viewer.tenant_id})


def get_scoped_object_or_404[M: Model](
    viewer: Viewer,
    qs: QuerySet[M],
    pk: object,
    *,
    tenant_field: str = "tenant",
    write: bool = False,
    write_needs_operator: bool = False,
) -> M:
    """One object inside the viewer's scope: 404 outside it, 403 when visible but not writable."""
    obj = get_object_or_404(scoped(viewer, qs, tenant_field), pk=pk)
    if write:
        allowed = viewer.is_operator if write_needs_operator else viewer.can_manage_tenant_data
        if not allowed:
            raise PermissionDenied("Your role cannot change this.")
    return obj
