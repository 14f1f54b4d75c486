"""`pmta --dom show topqueues` output, read from the real fixture, and the paste page."""

import json
from pathlib import Path

import pytest

from ips.models import IPAddress, MtaServer
from ips.topqueues import TopQueuesError, parse_topqueues
from testsupport.fixtures import PMTA_FIXTURES


def _fixture() -> Path:
    return PMTA_FIXTURES / "show-topqueues.dom.txt"


FIXTURE = _fixture()


@pytest.fixture(scope="module")
def text() -> str:
    return FIXTURE.read_text()


def test_it_reads_every_queue_of_the_real_output(text):
    result = parse_topqueues(text)
    # Counted in the file: 100 queue[N].name lines, 59 with mode="backoff", all aol.com; totals at the end.
    assert len(result.queues) == 100
    assert len(result.backoff) == 59
    assert result.title == "Top 100 queues by number of recipients"
    assert (result.total_recipients, result.total_queues_with_recipients) == (61078, 1428)
    assert sum(q.recipients for q in result.queues) == 6265
    assert {q.domain for q in result.queues} == {"aol.com"}
    assert all(len(q.events) == 5 and not q.paused for q in result.queues)


def test_it_reads_each_field_of_a_queue(text):
    first, second = parse_topqueues(text).queues[:2]
    assert (first.name, first.domain, first.vmta) == ("aol.com/23.236.100.164", "aol.com", "23.236.100.164")
    assert (first.recipients, first.kb, first.connections) == (77, 769.4, 0)
    assert (first.mode, first.in_backoff, first.retry_time) == ("normal", False, "2014-09-20 18:25:32")
    assert first.last_error == "connect rate limit reached"  # events are newest first
    # Unescaped quotes inside a value stay part of the text.
    assert first.events[1].text.startswith('skip of MX requested: "421 4.2.1 :  (DYN:T1)  http://postmaster')
    assert first.events[1].text.endswith("to mailin-04.mx.aol.com (64.12.88.131)")
    assert second.in_backoff
    assert second.errors[1].text == "All SMTP sources for queue aol.com/23.236.101.246 are now disabled."
    assert second.events[0].time == "2014-09-20 16:42:33"


def test_it_sorts_by_recipients(text):
    ordered = parse_topqueues(text).by_recipients()
    counts = [q.recipients for q in ordered]
    assert counts == sorted(counts, reverse=True)
    assert (counts[0], counts[-1]) == (77, 55)


def test_it_reads_the_json_form():
    doc = {"data": {"queue": {"name": "gmail.com/v1", "rcp": "3", "mode": "backoff", "paused": "yes"}}}
    result = parse_topqueues(json.dumps(doc))
    assert [(q.name, q.recipients, q.in_backoff, q.paused) for q in result.queues] == [
        ("gmail.com/v1", 3, True, True)
    ]


@pytest.mark.parametrize(
    "bad", ["", "this is the table output\n---domain--- #rcpt", 'queue[0.name="x"', "{not json", 'title="x"']
)
def test_it_rejects_what_it_cannot_read(bad):
    with pytest.raises(TopQueuesError):
        parse_topqueues(bad)


@pytest.mark.django_db
def test_the_page_shows_queues_sorted_with_backoff_highlighted(text, operator, login):
    server = MtaServer.objects.create(name="mta-1", webhook_token_hash="h")
    ip = IPAddress.objects.create(address="23.236.101.246", server=server, vmta_name="vmta-23-236-101-246")
    client = login(operator)
    assert client.get("/servers/topqueues/").status_code == 200
    response = client.post("/servers/topqueues/", {"output": text})
    assert response.status_code == 200
    body = response.text
    assert body.count('<tr class="backoff">') == 59
    assert body.count("<code>aol.com</code>") == 100
    assert f'href="/ips/{ip.pk}/"' in body  # the queue's vmta part is one of our IPs
    assert body.index("aol.com</code>/<code>23.236.100.164") < body.index(
        "aol.com</code>/<code>23.236.102.133"
    )


@pytest.mark.django_db
def test_the_page_explains_unreadable_input(operator, login):
    response = login(operator).post("/servers/topqueues/", {"output": "hello"})
    assert response.status_code == 400
    assert "is not a `name=&quot;value&quot;` line" in response.text


@pytest.mark.django_db
def test_the_page_is_for_operators_only(admin_a, login):
    client = login(admin_a)
    assert client.get("/servers/topqueues/").status_code == 404
    assert client.post("/servers/topqueues/", {"output": 'title="x"'}).status_code == 404
