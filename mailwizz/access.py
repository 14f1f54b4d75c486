"""One lookup per model, applying the tenant scope and the role."""

from django.http import HttpRequest

from core.access import get_scoped_object_or_404
from mailwizz.models import MailWizzOutbox
from tenants.access import actor_for
from tenants.models import Tenant


def get_mailwizz_tenant_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> Tenant:
    """The tenant whose MailWizz settings a page shows: own tenant for tenant users (404 for others),
    any for operators. The settings are tenant data: a tenant admin or an operator changes them (403 for
    viewers), unlike the tenant itself (tenants.access.get_tenant_for_user)."""
    return get_scoped_object_or_404(
        actor_for(request), Tenant.objects.all(), pk, tenant_field="pk", write=write
    )


def get_outbox_for_user(request: HttpRequest, pk: object, *, write: bool = False) -> MailWizzOutbox:
    return get_scoped_object_or_404(
        actor_for(request),
        MailWizzOutbox.objects.select_related("tenant"),
        pk,
        tenant_field="tenant",
        write=write,
    )
