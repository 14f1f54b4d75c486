"""Dashboard pages read the event store from a read replica when DATABASE_REPLICA_URL is set.

Only the tables the importer alone writes (delivery events, daily stats and their rollups) are
read from the replica, and only while a dashboard page is served (GET/HEAD, outside a transaction):
a replica lags the primary by a moment, which nobody notices on counts that the importer moves, but
would lose a session just created at login or a suppression just added on a form. Everything else, the
importer, Celery tasks, webhooks and the API's writes go to the primary.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
# app_label.model_name of the models read from the replica (written by the accounting import only).
REPLICA_MODELS = frozenset(
    {
        "campaigns.deliveryevent",
        "campaigns.dailystat",
        "campaigns.dailytenantstat",
        "campaigns.dailydomainstat",
        "campaigns.dailycampaignstat",
    }
)
# Paths never served from the replica: machine endpoints and the raw admin.
_PRIMARY_PREFIXES = ("/hooks/", "/api/", "/admin/", "/accounts/")

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: the replica serves REPLICA_MODELS reads of dashboard pages."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if (
            _replica_reads.get()
            and model._meta.label_lower in REPLICA_MODELS
            and replica_configured()
            and not connections["default"].in_atomic_block  # a transaction reads its own writes
        ):
            return REPLICA
        return None

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: object, obj2: object, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: the same rows on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # a physical replica follows the primary's schema by itself


class ReplicaReadsMiddleware:
    """Marks a dashboard page request (GET/HEAD) as one that may read from the replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.path.startswith(_PRIMARY_PREFIXES):
            return self.get_response(request)
        token = _replica_reads.set(True)
        try:
            return self.get_response(request)
        finally:
            _replica_reads.reset(token)
