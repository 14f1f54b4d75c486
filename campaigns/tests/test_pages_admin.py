"""The Django admin lists every campaigns model without errors (superusers' raw view)."""

import pytest
from django.contrib.auth import get_user_model

from campaigns.tests.page_factories import (
    at,
    make_accounting_file,
    make_campaign,
    make_event,
    make_rejection,
    make_stat,
    make_suppression,
)
from core.dates import utc_today


@pytest.mark.django_db
def test_it_lists_and_opens_every_model_in_the_admin(client, tenant_a):
    today = utc_today()
    campaign = make_campaign(tenant_a, "k", first=today, last=today)
    make_stat(campaign, today, delivered=1)
    make_event(tenant_a, "a@example.com", when=at(today))
    make_suppression(tenant_a, "a@example.com")
    source = make_accounting_file()
    make_rejection(source, 3, "bad")
    root = get_user_model().objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    for model in (
        "accountingfile",
        "campaign",
        "deliveryevent",
        "dailystat",
        "suppression",
        "accountingcounter",
    ):
        assert client.get(f"/admin/campaigns/{model}/").status_code == 200, model
    assert client.get(f"/admin/campaigns/accountingfile/{source.pk}/change/").status_code == 200
    assert client.get("/admin/campaigns/deliveryevent/?q=a@example.com").status_code == 200
