"""The access-helper base: another tenant's object is a 404; one a viewer sees but may not change, a 403."""

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.access import get_scoped_object_or_404, scoped
from tenants.models import Membership


@dataclass(frozen=True)
class FakeViewer:
    is_operator: bool = False
    tenant_id: int | None = None
    can_manage_tenant_data: bool = False


@pytest.fixture
def memberships(admin_a, viewer_a, admin_b):
    return Membership.objects.all()


def test_it_shows_operators_everything_and_tenant_users_their_own(memberships, tenant_a):
    assert scoped(FakeViewer(is_operator=True), memberships).count() == 3
    assert {m.tenant_id for m in scoped(FakeViewer(tenant_id=tenant_a.pk), memberships)} == {tenant_a.pk}
    assert not scoped(FakeViewer(), memberships).exists()


def test_it_answers_404_outside_the_scope_and_403_for_a_read_only_viewer(memberships, tenant_a, admin_b):
    reader = FakeViewer(tenant_id=tenant_a.pk)
    with pytest.raises(Http404):
        get_scoped_object_or_404(reader, memberships, admin_b.membership.pk)
    own = memberships.filter(tenant=tenant_a).first()
    assert get_scoped_object_or_404(reader, memberships, own.pk) == own
    with pytest.raises(PermissionDenied):
        get_scoped_object_or_404(reader, memberships, own.pk, write=True)
    writer = FakeViewer(tenant_id=tenant_a.pk, can_manage_tenant_data=True)
    assert get_scoped_object_or_404(writer, memberships, own.pk, write=True) == own
    with pytest.raises(PermissionDenied):
        get_scoped_object_or_404(writer, memberships, own.pk, write=True, write_needs_operator=True)
