"""The suppression page: scope per persona, viewers read-only, admins add and remove (one audit event each),
operators pick the tenant."""

import pytest

from campaigns.models import Suppression
from campaigns.tests.page_factories import make_suppression
from core.models import AuditEvent


@pytest.fixture
def lists(tenant_a, tenant_b):
    return {
        "a_bounce": make_suppression(
            tenant_a, "gone@a.example", reason="hard_bounce", detail="smtp;550 5.1.1"
        ),
        "a_manual": make_suppression(tenant_a, "asked@a.example"),
        "b_complaint": make_suppression(tenant_b, "angry@b.example", reason="complaint"),
    }


def emails(response) -> set[str]:
    return {s.email for s in response.context["page"].object_list}


@pytest.mark.django_db
def test_it_shows_each_persona_its_scope(login, operator, admin_a, viewer_a, lists):
    assert emails(login(operator).get("/suppression/")) == {
        "gone@a.example",
        "asked@a.example",
        "angry@b.example",
    }
    for user in (admin_a, viewer_a):
        response = login(user).get("/suppression/")
        assert emails(response) == {"gone@a.example", "asked@a.example"}
        assert "angry@b.example" not in response.content.decode()


@pytest.mark.django_db
def test_it_searches_and_filters(login, operator, admin_a, tenant_b, lists):
    client = login(admin_a)
    assert emails(client.get("/suppression/?q=GONE")) == {"gone@a.example"}
    assert emails(client.get("/suppression/?reason=manual")) == {"asked@a.example"}
    counts = {reason: n for reason, _, n in client.get("/suppression/").context["counts"]}
    assert counts == {"hard_bounce": 1, "complaint": 0, "manual": 1, "import": 0}
    assert emails(login(operator).get(f"/suppression/?tenant={tenant_b.pk}")) == {"angry@b.example"}


@pytest.mark.django_db
def test_it_paginates_with_a_flat_query_count(login, admin_a, tenant_a, django_assert_max_num_queries):
    client = login(admin_a)
    make_suppression(tenant_a, "first@a.example")
    with django_assert_max_num_queries(10) as few:
        client.get("/suppression/")
    for i in range(60):
        make_suppression(tenant_a, f"x{i}@a.example")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/suppression/?page=2")
    assert response.context["page"].paginator.count == 61
    assert len(response.context["page"].object_list) == 11


@pytest.mark.django_db
def test_it_refuses_every_change_to_a_viewer(login, viewer_a, lists):
    client = login(viewer_a)
    before = AuditEvent.objects.count()
    assert client.post("/suppression/add/", {"email": "new@a.example"}).status_code == 403
    assert client.get("/suppression/add/").status_code == 403
    assert client.post(f"/suppression/{lists['a_manual'].pk}/remove/").status_code == 403
    upload = ("list.csv", b"email\nx@a.example\n")
    assert client.post("/suppression/import/", {"file": _file(*upload)}).status_code == 403
    assert Suppression.objects.count() == 3
    assert AuditEvent.objects.count() == before
    # Reading stays allowed, without the buttons.
    response = client.get("/suppression/")
    assert response.status_code == 200
    assert "Remove" not in response.content.decode()
    assert client.get(f"/suppression/{lists['a_manual'].pk}/remove/").status_code == 200


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.django_db
def test_it_lets_an_admin_add_with_one_audit_event(login, admin_a, tenant_a, tenant_b):
    client = login(admin_a)
    response = client.post(
        "/suppression/add/", {"email": " New@A.example ", "detail": "asked by phone", "tenant": tenant_b.pk}
    )
    assert response.status_code == 302
    entry = Suppression.objects.get()
    # A tenant admin always adds to their own tenant, whatever the form says.
    assert (entry.tenant, entry.email, entry.reason, entry.created_by) == (
        tenant_a,
        "new@a.example",
        "manual",
        "admin-a",
    )
    events = AuditEvent.objects.filter(action="suppression.add")
    assert events.count() == 1
    assert events[0].tenant_id == tenant_a.pk and events[0].after["email"] == "new@a.example"


@pytest.mark.django_db
def test_it_reports_an_invalid_or_repeated_address(login, admin_a, lists):
    client = login(admin_a)
    response = client.post("/suppression/add/", {"email": "not an address"})
    assert response.status_code == 400
    assert "not a valid email address" in response.content.decode()
    response = client.post("/suppression/add/", {"email": "GONE@a.example"})
    assert response.status_code == 400
    assert "already on the suppression list" in response.content.decode()
    assert not AuditEvent.objects.filter(action="suppression.add").exists()


@pytest.mark.django_db
def test_it_makes_an_operator_pick_a_tenant(login, operator, tenant_b):
    client = login(operator)
    response = client.post("/suppression/add/", {"email": "x@example.com"})
    assert response.status_code == 400
    assert not Suppression.objects.exists()
    response = client.post("/suppression/add/", {"email": "x@example.com", "tenant": tenant_b.pk})
    assert response.status_code == 302
    assert Suppression.objects.get().tenant == tenant_b
    response = client.post("/suppression/import/", {"file": _file("l.csv", b"y@example.com\n")})
    assert response.status_code == 400
    assert Suppression.objects.count() == 1


@pytest.mark.django_db
def test_it_removes_after_confirmation_with_one_audit_event(login, admin_a, lists):
    client = login(admin_a)
    entry = lists["a_bounce"]
    page = client.get(f"/suppression/{entry.pk}/remove/")
    assert page.status_code == 200
    assert "hard bounce" in page.content.decode()
    assert Suppression.objects.filter(pk=entry.pk).exists()  # a GET changes nothing
    response = client.post(f"/suppression/{entry.pk}/remove/", {"reason": "customer confirmed the address"})
    assert response.status_code == 302
    assert not Suppression.objects.filter(pk=entry.pk).exists()
    event = AuditEvent.objects.get(action="suppression.remove")
    assert event.before["email"] == "gone@a.example"
    assert event.object_id == str(entry.pk) and event.reason == "customer confirmed the address"


@pytest.mark.django_db
def test_it_answers_404_for_another_tenants_entry(login, admin_a, viewer_a, operator, lists):
    other = lists["b_complaint"]
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get(f"/suppression/{other.pk}/remove/").status_code == 404
        assert client.post(f"/suppression/{other.pk}/remove/").status_code == 404
    assert Suppression.objects.filter(pk=other.pk).exists()
    assert login(operator).post(f"/suppression/{other.pk}/remove/").status_code == 302
    assert not Suppression.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_it_swaps_only_the_results_for_htmx(login, admin_a, lists):
    response = login(admin_a).get(
        "/suppression/?q=gone", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="suppression-results"
    )
    html = response.content.decode()
    assert "<html" not in html and "Add an address" not in html
    assert "gone@a.example" in html and "asked@a.example" not in html
