"""Domain ownership and the operators' DKIM material through the API: the fragment with the public keys,
the private-key export (audited), ownership verify and the operator's skip."""

import io
import tarfile

import pytest

from core.models import AuditEvent
from domains import services
from domains.models import SendingDomain
from testsupport.api import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(tenant_a, operator):
    return services.domain_create(
        tenant=tenant_a, name="news.example.com", by=operator, key_bits=1024, skip_verification=True
    )


def test_it_gives_the_fragment_with_the_public_keys_it_signs_with(operator, verified):
    body = api_as(operator).get("domains/dkim/fragment").json()
    assert "news.example.com" in body["text"]
    [key] = body["keys"]
    assert (key["domain"], key["state"], key["bits"]) == ("news.example.com", "active", 1024)
    assert key["public_key"] and key["public_key"][:20] in key["record"]
    assert key["path"].endswith(f"news.example.com.{key['selector']}.pem")
    assert "private" not in str(body).lower()


def test_it_exports_the_private_keys_once_audited(operator, verified):
    api = api_as(operator, "pmta-sync")
    response = api.post("domains/dkim/keys", {"server": ""})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
    assert [n for n in names if n.endswith(".pem")] == [
        "etc/pmta/emailengine/dkim/news.example.com.ee202612.pem"
    ]
    event = AuditEvent.objects.get(action="dkim.export")
    assert (event.after["keys"], event.via) == (1, f"api token: {api.token_name}")
    assert api.post("domains/dkim/keys", {"server": "no-such-server"}).status_code == 404


def test_tenant_users_get_no_dkim_material(admin_a, verified):
    api = api_as(admin_a)
    assert api.get("domains/dkim/fragment").status_code == 404
    assert api.post("domains/dkim/keys", {"server": ""}).status_code == 404
    assert not AuditEvent.objects.filter(action="dkim.export").exists()


def test_a_pending_domain_shows_its_proof_and_an_operator_may_vouch_for_it(admin_a, operator, tenant_a):
    domain = services.domain_create(tenant=tenant_a, name="promo.example.com", by=admin_a, key_bits=1024)
    api = api_as(admin_a)
    detail = api.get(f"domains/{domain.pk}").json()
    assert detail["ownership"]["state"] == "pending"
    assert domain.verification_token in detail["ownership"]["record"]

    # No TXT record anywhere (tests never reach a real resolver): not verified, nothing changes.
    checked = api.post(f"domains/{domain.pk}/verify")
    assert checked.status_code == 200 and checked.json()["verified"] is False
    assert api.post(f"domains/{domain.pk}/verify/skip", {"reason": "known customer"}).status_code == 404

    vouched = api_as(operator).post(f"domains/{domain.pk}/verify/skip", {"reason": "known customer"})
    assert vouched.status_code == 200 and vouched.json()["ownership"]["state"] == "operator"
    assert SendingDomain.objects.get(pk=domain.pk).is_verified
