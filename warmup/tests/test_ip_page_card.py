"""The warmup card on the IP page (/ips/<id>/): an IP on a plan shows its plan and step, to the operator and
to the tenant admin; an IP without one says so."""

import re

import pytest

from warmup.services import warmup_assign
from warmup.tests.conftest import make_ip

pytestmark = pytest.mark.django_db


def _warmup_card(body: str) -> str:
    match = re.search(r"<h2>Warmup</h2>(.*?)</section>", body, re.S)
    assert match, "the IP page has no Warmup card"
    return match.group(1)


@pytest.mark.parametrize("persona", ["operator", "admin_a"])
def test_it_shows_the_plan_and_step_of_an_ip_on_a_plan(request, login, operator, pool_a, plan, persona):
    warmup = warmup_assign(ip=make_ip("203.0.113.70", pool_a), plan=plan, by=operator)
    warmup.step = 2
    warmup.save(update_fields=["step"])

    response = login(request.getfixturevalue(persona)).get(f"/ips/{warmup.ip_id}/")

    assert response.status_code == 200
    card = _warmup_card(response.content.decode())
    assert "Not on a warmup plan" not in card
    assert "<strong>test plan</strong>, step 2 of 3" in card
    assert f"/warmup/ips/{warmup.ip_id}/" in card


def test_it_says_an_ip_without_a_plan_is_not_on_one(login, operator, pool_a):
    ip = make_ip("203.0.113.71", pool_a)
    card = _warmup_card(login(operator).get(f"/ips/{ip.pk}/").content.decode())
    assert "Not on a warmup plan" in card
