"""/domains/?problems=1: only domains whose summary says a record is wrong, missing or weak (the home
page's "domains with problems" link lands here), scoped like the rest of the list."""

import pytest

from domains.models import CheckStatus, SendingDomain


def _names(response) -> set[str]:
    return {domain.name for domain, _ in response.context["rows"]}


@pytest.fixture
def domains(make_domain, tenant_b):
    statuses = {
        "ok.test": CheckStatus.OK,
        "warn.test": CheckStatus.WARNING,
        "missing.test": CheckStatus.MISSING,
        "invalid.test": CheckStatus.INVALID,
        "unknown.test": CheckStatus.UNKNOWN,
        "never.test": "",
    }
    for name, status in statuses.items():
        domain = make_domain(name)
        SendingDomain.objects.filter(pk=domain.pk).update(status=status)
    other = make_domain("b-broken.test", tenant=tenant_b)
    SendingDomain.objects.filter(pk=other.pk).update(status=CheckStatus.INVALID)


@pytest.mark.django_db
def test_it_lists_only_domains_with_problems_for_an_operator(login, operator, domains):
    client = login(operator)
    assert _names(client.get("/domains/?problems=1")) == {
        "warn.test",
        "missing.test",
        "invalid.test",
        "b-broken.test",
    }
    # The checkbox sends "on"; without the filter every domain is listed.
    assert len(_names(client.get("/domains/?problems=on"))) == 4
    assert len(_names(client.get("/domains/"))) == 7
    html = client.get("/domains/?problems=1").content.decode()
    assert 'name="problems" value="1" checked' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin_a", "viewer_a"])
def test_it_keeps_a_tenant_to_its_own_problem_domains(request, login, persona, domains):
    response = login(request.getfixturevalue(persona)).get("/domains/?problems=1&q=test")
    assert _names(response) == {"warn.test", "missing.test", "invalid.test"}
    assert "b-broken.test" not in response.content.decode()


@pytest.mark.django_db
def test_it_defines_problems_once_on_the_model():
    assert set(SendingDomain.PROBLEM_STATUSES) == {"warning", "missing", "invalid"}
