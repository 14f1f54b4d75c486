"""Import history: operators only (404 for tenant users), files with offsets and counts, rejected rows."""

import pytest

from campaigns.tests.page_factories import make_accounting_file, make_rejection


@pytest.fixture
def sources():
    done = make_accounting_file("/var/log/pmta/acct-2025-01-01-0000.csv", offset=98765, rejected=2)
    failed = make_accounting_file(
        "/var/log/pmta/broken.csv.gz",
        status="failed",
        compressed=True,
        last_error="not a gzip file",
        rejected=0,
    )
    hook = make_accounting_file("webhook 2025-01-02", kind="webhook", status="waiting", rejected=0)
    make_rejection(done, 17, "bad timeLogged 'yesterday'", "d,yesterday,,a@b.example")
    make_rejection(done, 4, "unknown record type 'zz'", "zz,2025-01-01 10:00:00+0000")
    return {"done": done, "failed": failed, "hook": hook}


@pytest.mark.django_db
def test_it_lists_every_source_for_an_operator(login, operator, sources):
    response = login(operator).get("/imports/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "acct-2025-01-01-0000.csv",
        "98765",
        "not a gzip file",
        "webhook 2025-01-02",
        "Waiting for more",
    ):
        assert text in html
    response = login(operator).get("/imports/?status=failed")
    assert [f.path for f in response.context["page"].object_list] == ["/var/log/pmta/broken.csv.gz"]


@pytest.mark.django_db
def test_it_shows_rejected_rows_with_line_reason_and_excerpt(login, operator, sources):
    response = login(operator).get(f"/imports/{sources['done'].pk}/")
    assert response.status_code == 200
    rows = [(r.line, r.reason) for r in response.context["page"].object_list]
    assert rows == [(4, "unknown record type 'zz'"), (17, "bad timeLogged 'yesterday'")]
    assert "d,yesterday,,a@b.example" in response.content.decode()


@pytest.mark.django_db
def test_it_is_a_404_for_tenant_users(login, admin_a, viewer_a, sources):
    for user in (admin_a, viewer_a):
        client = login(user)
        assert client.get("/imports/").status_code == 404
        assert client.get(f"/imports/{sources['done'].pk}/").status_code == 404


@pytest.mark.django_db
def test_it_keeps_a_flat_query_count(login, operator, django_assert_max_num_queries):
    client = login(operator)
    make_accounting_file("/a.csv")
    with django_assert_max_num_queries(8) as few:
        client.get("/imports/")
    for i in range(30):
        make_accounting_file(f"/f{i}.csv")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/imports/")
