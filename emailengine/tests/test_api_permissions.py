"""Each persona x each write of the JSON API: the token can do exactly what its user can do in the browser.

WRITE_RULES names who may make each write; a new write route fails test_it_has_a_rule_for_every_write until
it is listed, so no write reaches main without its permissions being tested.
"""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
    "server_health_poll_now": (OPERATOR, 404),
    "server_config_save": (OPERATOR, 404),
    "topqueues_read": (OPERATOR, 404),
    "ip_rdns_check_now": (OPERATOR, 403),
    "rejection_reingest_now": (OPERATOR, 404),
    "rejection_dismiss_now": (OPERATOR, 404),
    "domain_verify": (WRITER, 403),
    "domain_verify_skip": (OPERATOR, 404),
    "dkim_keys_export": (OPERATOR, 404),
    "tenant_create": (OPERATOR, 404),
    "tenant_update": (OPERATOR, 403),
    "member_add": (OPERATOR, 403),
    "member_role": (OPERATOR, 404),
    "member_remove": (OPERATOR, 404),
    "mailwizz_connection_save": (WRITER, 403),
    "mailwizz_test": (WRITER, 403),
    "mailwizz_sync_now": (WRITER, 403),
    "mailwizz_outbox_retry": (WRITER, 403),
}

WRITES = [op for op in operations() if op.is_write]


# --- valid requests: each write gets a body (and an object in a state) it accepts, so that what comes back
# is the role's answer, never a 422 for a placeholder body or a 409 for an object in the wrong state.

Case = tuple[dict[str, object], object]


def _values(op_id: str, tenant) -> dict[str, object]:
    op = next(o for o in WRITES if o.operation_id == op_id)
    return {name: OBJECT_FACTORIES[name](tenant) for name in op.params}


def _server(tenant):
    from emailengine.tests.isolation_registry import _mta_server

    return _mta_server(tenant)


def _ip(tenant):
    from ips.models import IPAddress

    return IPAddress.objects.get(address=OBJECT_FACTORIES["address"](tenant))


def _own_ip_on_a_plan(tenant) -> Case:
    from warmup.models import WarmupPlan

    plan = WarmupPlan.objects.create(name=f"perm plan {WarmupPlan.objects.count() + 1}")
    plan.steps.create(position=1, daily_limit=100, hourly_limit=10)
    return {}, {"ip": OBJECT_FACTORIES["address"](tenant), "plan": plan.pk}


def _paused_ip(tenant) -> Case:
    from ips.models import IPStatus

    ip = _ip(tenant)
    ip.status, ip.paused_from = IPStatus.PAUSED, IPStatus.ACTIVE
    ip.save(update_fields=["status", "paused_from"])
    return {"address": ip.address}, {"reason": "perm test"}


def _ip_and_other_pool(tenant) -> Case:
    from ips.models import IPPool

    ip = _ip(tenant)
    pool = IPPool.objects.create(
        name=f"perm-pool-{IPPool.objects.count() + 1}", server=ip.server, tenant=tenant
    )
    return {"address": ip.address}, {"pool": pool.pk, "reason": "perm test"}


def _ip_on_warmup(tenant) -> Case:
    from warmup.models import IPWarmup

    warmup = IPWarmup.objects.select_related("ip").get(pk=OBJECT_FACTORIES["warmup_id"](tenant))
    return {"address": warmup.ip.address}, {"action": "hold", "reason": "perm test"}


def _domain_with_rotation(tenant) -> Case:
    from domains.models import SendingDomain
    from domains.services import rotation_start

    domain = SendingDomain.objects.get(pk=OBJECT_FACTORIES["domain_id"](tenant))
    rotation_start(domain=domain, by="system: test", bits=1024, selector="perm1")
    return {"domain_id": domain.pk}, {}


def _domain_with_old_key(tenant) -> Case:
    from datetime import timedelta

    from django.utils import timezone

    from domains.models import DkimKey, KeyState, SendingDomain

    domain = SendingDomain.objects.get(pk=OBJECT_FACTORIES["domain_id"](tenant))
    DkimKey.objects.create(
        domain=domain,
        selector="old1",
        bits=1024,
        public_key_b64="x",
        state=KeyState.RETIRING,
        retire_after=timezone.now() - timedelta(days=1),
    )
    return {"domain_id": domain.pk}, {"selector": "old1", "force": False}


def _new_domain(tenant) -> Case:
    from domains.models import SendingDomain

    n = SendingDomain.objects.count() + 1
    return {}, {"name": f"perm-{n}.example.com", "tenant": tenant.pk, "key_bits": 1024}


def _new_ips(tenant) -> Case:
    return {}, {"addresses": ["192.0.2.10"], "server": _server(tenant).pk}


def _body(op_id: str, body: object) -> Callable[[object], Case]:
    return lambda tenant: (_values(op_id, tenant), body)


TOPQUEUES_JSON = '{"data": {"queue": {"name": "gmail.com/v1", "rcp": "3", "mode": "backoff"}}}'


def _kept_records(tenant) -> Case:
    from campaigns.models import ImportRejection

    # A kept CSV line with the header it is read by (re-ingesting it refuses it again: no time logged).
    pk = OBJECT_FACTORIES["rejection_id"](tenant)
    line = b"d,perm@example.com\n"
    ImportRejection.objects.filter(pk=pk).update(header=["type", "rcpt"], data=line, data_size=len(line))
    return {}, {"ids": [pk]}


def _new_tenant(tenant) -> Case:
    from tenants.models import Tenant

    n = Tenant.objects.count() + 1
    return {}, {"name": f"Perm tenant {n}", "slug": f"perm-tenant-{n}"}


def _new_member(tenant) -> Case:
    from tenants.models import Membership

    login = {"username": f"perm-{Membership.objects.count() + 1}", "password": "a-long-pass-phrase-9"}
    return {}, {**login, "email": "", "role": "viewer"}


MAILWIZZ = {"base_url": "https://mw.example.com/api", "mode": "mw2", "api_key": "perm-key"}


def _mailwizz_configured(tenant) -> Case:
    # A MailWizz this server refuses to reach (loopback, core/outbound.py): the sync runs and reports it.
    from mailwizz.models import MailWizzConfig

    MailWizzConfig.objects.create(tenant=tenant, base_url="http://127.0.0.1:9/api", api_key="perm-key")
    return {"tenant_id": tenant.pk}, {}


CASES: dict[str, Callable[[object], Case]] = {
    "server_update": _body("server_update", {"notes": "perm test"}),
    "ip_bulk_add": _new_ips,
    "ip_pause": _body("ip_pause", {"reason": "perm test"}),
    "ip_resume": _paused_ip,
    "ip_retire": _body("ip_retire", {"reason": "perm test"}),
    "ip_move": _ip_and_other_pool,
    "domain_create": _new_domain,
    "domain_update": _body("domain_update", {"expected_dmarc_policy": "reject"}),
    "rotation_start": _body("rotation_start", {"key_bits": 1024, "selector": ""}),
    "rotation_verify": _domain_with_rotation,
    "rotation_cancel": _domain_with_rotation,
    "rotation_retire": _domain_with_old_key,
    "blocklist_update": _body("blocklist_update", {"severity": "major"}),
    "suppression_create": lambda tenant: ({}, {"email": "perm@example.com", "tenant": tenant.pk}),
    "validation_job_create": lambda tenant: ({}, {"addresses": ["perm@example.com"], "tenant": tenant.pk}),
    "plan_update": _body(
        "plan_update", {"description": "perm test", "steps": [{"daily_limit": 100, "hourly_limit": 10}]}
    ),
    "pool_create": lambda tenant: (
        {},
        {"name": "perm-pool", "server": _server(tenant).pk, "tenant": tenant.pk},
    ),
    "pool_update": _body("pool_update", {"description": "perm test"}),
    "suppression_import": lambda tenant: ({}, {"tenant": tenant.pk}),
    "validation_job_upload": lambda tenant: ({}, {"tenant": tenant.pk}),
    "ip_action": _ip_on_warmup,
    "rule_update": _body("rule_update", {"threshold": 20}),
    "assignment_create": _own_ip_on_a_plan,
    "topqueues_read": _body("topqueues_read", {"output": TOPQUEUES_JSON}),
    "rejection_reingest_now": _kept_records,
    "rejection_dismiss_now": _kept_records,
    "domain_verify_skip": _body("domain_verify_skip", {"reason": "perm test"}),
    "dkim_keys_export": lambda tenant: ({}, {"server": ""}),
    "tenant_create": _new_tenant,
    "member_add": _new_member,
    "member_role": _body("member_role", {"role": "admin"}),
    "mailwizz_connection_save": lambda tenant: ({"tenant_id": tenant.pk}, MAILWIZZ),
    "mailwizz_sync_now": _mailwizz_configured,
}
# Writes whose success needs the outside world: activating a DKIM key re-checks its record in DNS
# (domains/tests cover it against the local DNS server). Here the refusal of the state proves the role
# and the body passed; any other answer fails.
STATE_REFUSALS = {"rotation_activate": 409}


def test_it_has_a_rule_for_every_write():
    ids = {op.operation_id for op in WRITES}
    assert ids - set(WRITE_RULES) == set(), "add the new writes to WRITE_RULES"
    assert set(WRITE_RULES) - ids == set(), "WRITE_RULES names writes that no longer exist"
    assert set(CASES) | set(STATE_REFUSALS) <= ids


def _call(user, op, tenant):
    if op.operation_id in CASES:
        values, body = CASES[op.operation_id](tenant)
        values = {name: values.get(name) or OBJECT_FACTORIES[name](tenant) for name in op.params}
        client = api_as(user)
        if op.multipart:
            upload = SimpleUploadedFile("perm.csv", b"email\nperm@example.com\n", content_type="text/csv")
            return client.client.post(op.url(values), {**body, "file": upload}, headers=client.headers)
        return getattr(client, op.method)(op.url(values), body)
    return call(api_as(user), op, op.url({name: OBJECT_FACTORIES[name](tenant) for name in op.params}))


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
        expected = STATE_REFUSALS.get(op.operation_id)
        if expected is not None:
            assert response.status_code == expected, detail
        else:
            # Success only: a 422 or 409 here would hide whether the role was ever checked.
            assert 200 <= response.status_code < 300, detail
    else:
        assert response.status_code == refusal, detail
        assert response["Content-Type"] == "application/problem+json", detail
