"""Finding: the warmup action redirected to whatever its ``next`` field said, so a crafted form on another
site could bounce an operator from our dashboard to anywhere. Only URLs on this site are followed now."""

import pytest

from warmup.services import warmup_assign
from warmup.tests.conftest import make_ip

pytestmark = pytest.mark.django_db


@pytest.fixture
def warmup(pool_a, plan, operator):
    return warmup_assign(ip=make_ip("203.0.113.71", pool_a), plan=plan, by=operator)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        " https://evil.example/",
    ],
)
def test_an_outside_next_falls_back_to_the_board(login, operator, warmup, target):
    response = login(operator).post(f"/warmup/{warmup.pk}/action/", {"action": "hold", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/warmup/"


def test_a_next_on_this_site_is_followed(login, operator, warmup):
    target = f"/warmup/ips/{warmup.ip_id}/?tab=decisions"
    response = login(operator).post(f"/warmup/{warmup.pk}/action/", {"action": "hold", "next": target})
    assert response["Location"] == target
