"""How to make an object owned by a given tenant, for each object id a URL pattern takes.

The tenant-isolation tests walk the whole URLconf and every route of the JSON API; a new
`<int:something_id>` URL or `{something_id}` API path parameter fails them until it has a factory here, so
nothing escapes the check.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from core.dates import utc_today
from tenants.models import Membership, Tenant


def _member(tenant: Tenant) -> int:
    n = Membership.objects.count() + 1
    user = get_user_model().objects.create_user(username=f"iso-member-{tenant.slug}-{n}")
    return Membership.objects.create(user=user, tenant=tenant, role="viewer").pk


def _mta_server(tenant: Tenant):
    # Servers are shared infrastructure: the URLs are operator-only, so any server is "another tenant's".
    from ips.models import MtaServer

    n = MtaServer.objects.count() + 1
    server = MtaServer(name=f"iso-pmta-{tenant.slug}-{n}")
    server.set_webhook_token(MtaServer.new_token())
    server.save()
    return server


def _pool(tenant: Tenant):
    from ips.models import IPPool

    n = IPPool.objects.count() + 1
    return IPPool.objects.create(name=f"iso-pool-{n}", server=_mta_server(tenant), tenant=tenant)


def _ip(tenant: Tenant) -> int:
    from ips.models import IPAddress

    pool = _pool(tenant)
    address = f"198.51.100.{IPAddress.objects.count() + 1}"
    return IPAddress.objects.create(
        address=address, server=pool.server, pool=pool, vmta_name=IPAddress.default_vmta_name(address)
    ).pk


def _ip_address(tenant: Tenant) -> str:
    # The API names IPs by address.
    from ips.models import IPAddress

    return IPAddress.objects.get(pk=_ip(tenant)).address


def _api_token(tenant: Tenant) -> int:
    # Personal: only its user (and operators) may revoke it.
    from tenants.services import api_token_create

    user = Membership.objects.get(pk=_member(tenant)).user
    return api_token_create(user=user, name="iso", by="system: test")[0].pk


def _sending_domain(tenant: Tenant) -> int:
    # Straight to the model: a DKIM key is not needed for the URL walk, and generating one is slow.
    from domains.models import SendingDomain

    name = f"iso-{tenant.slug}-{SendingDomain.objects.count() + 1}.example"
    return SendingDomain.objects.create(tenant=tenant, name=name, return_path_domain=f"bounce.{name}").pk


def _blocklist(tenant: Tenant) -> int:
    from reputation.models import Blocklist

    n = Blocklist.objects.count() + 1
    return Blocklist.objects.create(
        key=f"iso-list-{n}", name=f"Iso list {n}", zone=f"iso{n}.bl.example", kind="ip", severity="minor"
    ).pk


def _warmup(tenant: Tenant) -> int:

    from ips.models import IPAddress
    from warmup.models import IPWarmup, WarmupPlan

    plan = WarmupPlan.objects.order_by("pk").first() or WarmupPlan.objects.create(name="iso plan")
    return IPWarmup.objects.create(
        ip=IPAddress.objects.get(pk=_ip(tenant)), plan=plan, started_on=utc_today()
    ).pk


def _warmup_plan(tenant: Tenant) -> int:
    # Plans and reply rules are operator configuration: any one is "another tenant's".
    from warmup.models import WarmupPlan

    return WarmupPlan.objects.create(name=f"iso plan {WarmupPlan.objects.count() + 1}").pk


def _reply_rule(tenant: Tenant) -> int:
    from warmup.models import ReplyRule

    return ReplyRule.objects.create(name=f"iso rule {ReplyRule.objects.count() + 1}", pattern="4\\.7\\.28").pk


def _campaign(tenant: Tenant) -> int:
    from django.utils import timezone

    from campaigns.models import Campaign

    now = timezone.now()
    key = f"iso-campaign-{Campaign.objects.count() + 1}"
    return Campaign.objects.create(tenant=tenant, key=key, first_seen=now, last_seen=now).pk


def _suppression(tenant: Tenant) -> int:
    from campaigns.models import Suppression

    email = f"iso-{Suppression.objects.count() + 1}@example.com"
    return Suppression.objects.create(tenant=tenant, email=email, reason="manual", created_by="iso").pk


def _accounting_file(tenant: Tenant) -> int:
    # Import history is operator-only (files carry every tenant's records): any file is "another tenant's".
    from campaigns.models import AccountingFile

    return AccountingFile.objects.create(path=f"/iso/acct-{AccountingFile.objects.count() + 1}.csv").pk


def _validation_job(tenant: Tenant) -> int:
    from hygiene.models import ValidationJob

    return ValidationJob.objects.create(
        tenant=tenant, filename="iso.csv", status="done", header=["email"], has_header=True
    ).pk


def _suppression_import(tenant: Tenant) -> int:
    from campaigns.models import SuppressionImport

    return SuppressionImport.objects.create(
        tenant=tenant, created_by_label="iso", data=b"a@example.com\n", status="done"
    ).pk


def _import_rejection(tenant: Tenant) -> int:
    # Kept accounting records are operator-only, like the import history: any is "another tenant's".
    from campaigns.models import ImportRejection

    source = _accounting_file(tenant)
    return ImportRejection.objects.create(file_id=source, line=1, reason="iso", data=b"x", data_size=1).pk


def _tenant_hold(tenant: Tenant) -> int:

    from campaigns.models import TenantHold

    today = utc_today()
    return TenantHold.objects.create(
        tenant=tenant,
        signal="complaint_rate",
        rate=0.01,
        threshold=0.003,
        reason="iso",
        window_start=today,
        window_end=today,
    ).pk


def _mailwizz_outbox(tenant: Tenant) -> int:
    from mailwizz.models import MailWizzOutbox

    email = f"iso-{MailWizzOutbox.objects.count() + 1}@example.com"
    return MailWizzOutbox.objects.create(tenant=tenant, kind="complaint", email=email, status="failed").pk


def _provider_account(tenant: Tenant) -> int:
    # No key stored: the operator's "test connection" in the crawl answers without going out to Microsoft.
    from reputation.models import ProviderAccount

    return ProviderAccount.objects.create(kind="snds", tenant=tenant, label="iso", snds_key="").pk


def _provider_group(tenant: Tenant) -> int:
    # Provider groups are shared configuration (operator-only pages): any group is "another tenant's".
    from ips.models import ProviderGroup

    n = ProviderGroup.objects.count() + 1
    return ProviderGroup.objects.create(
        name=f"iso-provider-{n}", label="iso", domains=[f"iso{n}.example"], mx_domain=f"iso{n}.example"
    ).pk


OBJECT_FACTORIES: dict[str, Callable[[Tenant], int | str]] = {
    "tenant_id": lambda tenant: tenant.pk,
    "member_id": _member,
    "token_id": _api_token,
    "server_id": lambda tenant: _mta_server(tenant).pk,
    "pool_id": lambda tenant: _pool(tenant).pk,
    "ip_id": _ip,
    "address": _ip_address,
    "domain_id": _sending_domain,
    # Blocklists are shared configuration (operator-only pages): any list is "another tenant's".
    "blocklist_id": _blocklist,
    "warmup_id": _warmup,
    "plan_id": _warmup_plan,
    "rule_id": _reply_rule,
    "campaign_id": _campaign,
    "suppression_id": _suppression,
    "file_id": _accounting_file,
    "job_id": _validation_job,
    "outbox_id": _mailwizz_outbox,
    "hold_id": _tenant_hold,
    "import_id": _suppression_import,
    "rejection_id": _import_rejection,
    "group_id": _provider_group,
    "account_id": _provider_account,
}
