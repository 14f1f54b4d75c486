"""The event admin's search covers the uuid fingerprint without failing on other search terms."""

import pytest

from campaigns.models import DeliveryEvent

FINGERPRINT = "3d5e217c-2ca4-1de4-ddcc-c992d9471225"


@pytest.mark.django_db
def test_search_by_address_or_fingerprint(admin_client):
    DeliveryEvent.objects.create(
        time_logged="2025-07-10T08:00:00Z", type="d", outcome="delivered", rcpt="bob@example.com",
        fingerprint=FINGERPRINT,
    )  # fmt: skip
    for q in ("bob@example.com", FINGERPRINT, "not a uuid"):
        response = admin_client.get("/admin/campaigns/deliveryevent/", {"q": q})
        assert response.status_code == 200, q
        found = list(response.context["cl"].result_list)
        assert [e.rcpt for e in found] == ([] if q == "not a uuid" else ["bob@example.com"]), q
