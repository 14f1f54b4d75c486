"""core.compiled: a read's statement is compiled once, yet every call runs it, for the scope and arguments it
is given."""

import pytest
from django.db.models import Count, QuerySet

from core.access import ReadScope, scoped
from core.compiled import compiled_count, compiled_rows
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _actions(scope: ReadScope, prefix: str) -> QuerySet:
    events = scoped(scope, AuditEvent.objects.filter(action__startswith=prefix))
    return events.order_by("action").values("action").annotate(n=Count("id"))


def test_it_runs_the_statement_on_every_call_for_its_scope_and_arguments(
    tenant_a, tenant_b, django_assert_num_queries
):
    AuditEvent.objects.create(actor_label="x", tenant=tenant_a, action="ip.pause")
    AuditEvent.objects.create(actor_label="x", tenant=tenant_b, action="ip.pause")
    operator = ReadScope(is_operator=True, tenant_id=None)
    assert compiled_rows(AuditEvent, _actions, operator, "ip.") == [{"action": "ip.pause", "n": 2}]
    # Rows written since are read: only the statement is kept.
    AuditEvent.objects.create(actor_label="x", tenant=tenant_a, action="ip.resume")
    with django_assert_num_queries(1):
        rows = compiled_rows(AuditEvent, _actions, operator, "ip.")
    assert rows == [{"action": "ip.pause", "n": 2}, {"action": "ip.resume", "n": 1}]
    tenant = ReadScope(is_operator=False, tenant_id=tenant_b.pk)
    assert compiled_rows(AuditEvent, _actions, tenant, "ip.") == [{"action": "ip.pause", "n": 1}]
    assert compiled_rows(AuditEvent, _actions, operator, "ip.r") == [{"action": "ip.resume", "n": 1}]


def test_a_scope_that_sees_nothing_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert compiled_rows(AuditEvent, _actions, ReadScope(is_operator=False, tenant_id=None), "ip.") == []


def _events(scope: ReadScope, action: str) -> QuerySet:
    return scoped(scope, AuditEvent.objects.filter(action=action)).order_by().values("pk")


def test_it_counts_the_rows_of_a_statement_as_the_queryset_would(tenant_a, tenant_b):
    AuditEvent.objects.create(actor_label="x", tenant=tenant_a, action="ip.pause")
    AuditEvent.objects.create(actor_label="x", tenant=tenant_b, action="ip.pause")
    operator = ReadScope(is_operator=True, tenant_id=None)
    assert compiled_count(AuditEvent, _events, operator, "ip.pause") == 2
    AuditEvent.objects.create(actor_label="x", tenant=tenant_a, action="ip.pause")
    assert compiled_count(AuditEvent, _events, operator, "ip.pause") == 3
    tenant = ReadScope(is_operator=False, tenant_id=tenant_a.pk)
    assert compiled_count(AuditEvent, _events, tenant, "ip.pause") == _events(tenant, "ip.pause").count() == 2
    assert compiled_count(AuditEvent, _events, ReadScope(is_operator=False, tenant_id=None), "ip.pause") == 0
