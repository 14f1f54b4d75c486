import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tenants.models import Membership, Tenant


@pytest.mark.django_db
def test_it_seeds_personas_idempotently(capsys):
    call_command("seed_demo", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("seed_demo", "--json")
    second = json.loads(capsys.readouterr().out)
    assert first["counts"] == second["counts"]
    assert set(Tenant.objects.values_list("slug", flat=True)) == {"sos-expat", "ulixai"}
    assert Membership.objects.count() == 4
    usernames = {login["username"] for login in second["logins"]}
    assert {"operator", "sos-expat-admin", "sos-expat-viewer", "ulixai-admin", "ulixai-viewer"} <= usernames
    user = get_user_model().objects.get(username="sos-expat-viewer")
    assert user.check_password(second["logins"][0]["password"])
