"""The hourly recheck and the daily retirement are scheduled and call the services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from domains import tasks
from domains.models import DkimKey, DomainCheck, KeyState
from emailengine.celery import app


def test_it_schedules_the_hourly_recheck_and_the_daily_retirement():
    schedule = app.conf.beat_schedule
    assert schedule["domains-recheck"]["task"] == "domains.tasks.recheck_all_domains"
    assert schedule["domains-recheck"]["schedule"] == 3600.0
    assert schedule["dkim-retire-expired"]["task"] == "domains.tasks.retire_expired_dkim_keys"


@pytest.mark.django_db
def test_it_fans_out_one_check_per_domain(make_domain, dns_settings, monkeypatch):
    first, second = make_domain("a.example"), make_domain("b.example")
    queued: list[int] = []
    monkeypatch.setattr(tasks.check_domain, "delay", queued.append)

    assert tasks.recheck_all_domains() == 2
    assert queued == [first.pk, second.pk]

    assert tasks.check_domain(first.pk) == "missing"
    assert DomainCheck.objects.filter(domain=first).count() == 5
    assert tasks.check_domain(999_999) == "gone"


@pytest.mark.django_db
def test_it_retires_keys_whose_grace_period_is_over(make_domain):
    domain = make_domain("a.example")
    key = domain.keys.get()
    DkimKey.objects.filter(pk=key.pk).update(
        state=KeyState.RETIRING, retire_after=timezone.now() - timedelta(hours=1)
    )

    assert tasks.retire_expired_dkim_keys() == 1
    key.refresh_from_db()
    assert key.state == KeyState.RETIRED
