"""Each persona x each write of the JSON API: the token can do exactly what its user can do in the browser.

WRITE_RULES names who may make each write; a new write route fails test_it_has_a_rule_for_every_write until
it is listed, so no write reaches main without its permissions being tested.
"""

import pytest

from emailengine.tests.api_routes import call, operations
from emailengine.tests.isolation_registry import OBJECT_FACTORIES
from testsupport.api import api_as

OPERATOR, WRITER = "operator", "writer"
# operation id -> (who may, what a tenant user who may not gets: 403 when they can see the object,
# 404 when they cannot even see it, as on the pages).
WRITE_RULES: dict[str, tuple[str, int]] = {
    "server_create": (OPERATOR, 404),
    "server_update": (OPERATOR, 404),
    "server_rotate_token": (OPERATOR, 404),
    "pool_create": (OPERATOR, 404),
    "pool_update": (OPERATOR, 403),
    "ip_bulk_add": (OPERATOR, 404),
    "ip_update": (OPERATOR, 403),
    "ip_status": (OPERATOR, 403),
    "ip_pause": (OPERATOR, 403),
    "ip_resume": (OPERATOR, 403),
    "ip_retire": (OPERATOR, 403),
    "ip_move": (OPERATOR, 403),
    "domain_create": (WRITER, 403),
    "domain_update": (WRITER, 403),
    "domain_delete": (WRITER, 403),
    "domain_check": (WRITER, 403),
    "rotation_start": (WRITER, 403),
    "rotation_verify": (WRITER, 403),
    "rotation_activate": (WRITER, 403),
    "rotation_cancel": (WRITER, 403),
    "rotation_retire": (WRITER, 403),
    "blocklist_update": (OPERATOR, 404),
    "sweep_now": (OPERATOR, 404),
    "plan_copy": (OPERATOR, 404),
    "plan_update": (OPERATOR, 404),
    "assignment_create": (OPERATOR, 403),
    "ip_action": (OPERATOR, 403),
    "rule_create": (OPERATOR, 404),
    "rule_update": (OPERATOR, 404),
    "rule_delete": (OPERATOR, 404),
    "suppression_create": (WRITER, 403),
    "suppression_delete": (WRITER, 403),
    "suppression_import": (WRITER, 403),
    "validation_job_create": (WRITER, 403),
    "validation_job_upload": (WRITER, 403),
}


def _own_ip_on_a_plan(tenant) -> dict:
    from warmup.models import WarmupPlan

    plan = WarmupPlan.objects.create(name=f"perm plan {WarmupPlan.objects.count() + 1}")
    plan.steps.create(position=1, daily_limit=100, hourly_limit=10)
    return {"ip": OBJECT_FACTORIES["address"](tenant), "plan": plan.pk}


# Writes whose body names the object: a placeholder would make it a 404 for everyone.
BODIES = {"assignment_create": _own_ip_on_a_plan}

WRITES = [op for op in operations() if op.is_write]
DENIED = {401, 403, 404}


def test_it_has_a_rule_for_every_write():
    ids = {op.operation_id for op in WRITES}
    assert ids - set(WRITE_RULES) == set(), "add the new writes to WRITE_RULES"
    assert set(WRITE_RULES) - ids == set(), "WRITE_RULES names writes that no longer exist"


def _call(user, op, tenant):
    url = op.url({name: OBJECT_FACTORIES[name](tenant) for name in op.params})
    if op.operation_id in BODIES:
        return getattr(api_as(user), op.method)(url, BODIES[op.operation_id](tenant))
    return call(api_as(user), op, url)


@pytest.mark.django_db
@pytest.mark.parametrize("op", WRITES, ids=str)
@pytest.mark.parametrize("persona", ["operator", "admin_a", "viewer_a"])
def test_it_applies_the_users_role_to_each_write(op, persona, request, tenant_a):
    user = request.getfixturevalue(persona)
    who, refusal = WRITE_RULES[op.operation_id]
    response = _call(user, op, tenant_a)
    allowed = persona == "operator" or (who == WRITER and persona == "admin_a")
    detail = f"{persona} {op}: {response.status_code} {response.content[:300]!r}"
    if allowed:
        assert response.status_code not in DENIED, detail
    else:
        assert response.status_code == refusal, detail
        assert response["Content-Type"] == "application/problem+json", detail
