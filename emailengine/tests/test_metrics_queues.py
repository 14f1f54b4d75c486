"""Celery queue lengths on /metrics: one cached Redis round trip, nothing with the filesystem broker."""

import uuid

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from emailengine import metrics
from emailengine.celery import app

pytestmark = pytest.mark.django_db


def queue_lengths(client) -> dict[str, float]:
    body = client.get("/metrics").content.decode()
    return {
        s.labels["queue"]: s.value
        for family in text_string_to_metric_families(body)
        if family.name == "emailengine_celery_queue_length"
        for s in family.samples
    }


@pytest.fixture
def fresh_cache():
    metrics.reset_queue_cache()
    yield
    metrics.reset_queue_cache()


@pytest.fixture
def routed_queue(monkeypatch, settings, redis_url, fresh_cache):
    """A queue only this test uses, known to Celery through task_routes, on the real Redis broker."""
    name = f"metrics-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = redis_url
    monkeypatch.setitem(app.conf, "task_routes", {"some.task": {"queue": name}})
    client = redis.Redis.from_url(redis_url)
    yield name, client
    client.delete(name, *(f"{name}\x06\x16{step}" for step in (3, 6, 9)))
    client.close()


def test_it_knows_the_default_and_routed_queues(monkeypatch):
    monkeypatch.setitem(app.conf, "task_routes", {"a.task": {"queue": "dns"}, "b.task": "imports"})
    assert {app.conf.task_default_queue, "dns", "imports"} <= set(metrics.known_queues())


def test_it_counts_messages_including_prioritised_ones(client, routed_queue):
    name, broker = routed_queue
    broker.lpush(name, "m1", "m2", "m3")
    broker.lpush(f"{name}\x06\x163", "urgent")  # kombu keeps priority 3 messages in a sibling list

    lengths = queue_lengths(client)
    assert lengths[name] == 4
    assert app.conf.task_default_queue in lengths  # the default queue is always reported


def test_it_caches_the_lengths_between_close_scrapes(client, routed_queue):
    name, broker = routed_queue
    broker.lpush(name, "m1")
    assert queue_lengths(client)[name] == 1
    broker.lpush(name, "m2")
    assert queue_lengths(client)[name] == 1  # within QUEUE_CACHE_SECONDS: the cached answer
    metrics.reset_queue_cache()
    assert queue_lengths(client)[name] == 2


def test_it_has_no_series_with_the_filesystem_broker(client, settings, fresh_cache):
    settings.CELERY_BROKER_URL = "filesystem://"
    assert queue_lengths(client) == {}


def test_it_stays_fast_when_the_broker_is_down(client, settings, fresh_cache, monkeypatch):
    """Fast by construction, not by a stopwatch (a loaded machine makes any wall-clock bound flaky): the one
    connection attempt is bounded by REDIS_TIMEOUT_SECONDS, and the failure is cached, so a second scrape
    does not try again."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    clients: list[dict] = []
    from_url = redis.Redis.from_url

    def spy(url, **kwargs):
        clients.append(kwargs)
        return from_url(url, **kwargs)

    monkeypatch.setattr(redis.Redis, "from_url", spy)
    assert queue_lengths(client) == {}
    assert queue_lengths(client) == {}  # the failure is cached: no second timeout
    assert len(clients) == 1
    assert (
        clients[0]["socket_connect_timeout"] == clients[0]["socket_timeout"] == metrics.REDIS_TIMEOUT_SECONDS
    )
