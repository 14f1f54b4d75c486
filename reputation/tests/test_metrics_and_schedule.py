"""Prometheus gauges for listings and sweeps, the beat schedule, the task, the shipped catalogue."""

import pytest

from reputation.dnsbl.catalogue import CATALOGUE
from reputation.models import Blocklist
from reputation.services import sweep_run


@pytest.mark.django_db
def test_metrics_expose_open_listings_and_the_last_sweep(
    client, inventory, dnsbl, django_assert_max_num_queries
):
    from prometheus_client import REGISTRY

    from reputation.metrics import DnsblCollector

    dnsbl.list("192.0.2.10", "bl.spamcop.net", "127.0.0.2")
    sweep_run()
    body = client.get("/metrics").content.decode()
    assert 'emailengine_dnsbl_listed{list="spamcop",target="192.0.2.10"} 1.0' in body
    assert "emailengine_dnsbl_sweep_duration_seconds " in body
    assert "emailengine_dnsbl_last_sweep_timestamp " in body
    assert REGISTRY.get_sample_value("emailengine_dnsbl_last_sweep_errors") == 0

    dnsbl.list("192.0.2.20", "bl.spamcop.net", "127.0.0.2")
    sweep_run()
    with django_assert_max_num_queries(3):
        families = list(DnsblCollector().collect())
    assert len(families[0].samples) == 2


@pytest.mark.django_db
def test_the_task_runs_a_scheduled_sweep(inventory, dnsbl):
    from reputation.models import Sweep
    from reputation.tasks import sweep_dnsbl

    summary = sweep_dnsbl.apply().get()
    assert summary["queries"] > 0 and Sweep.objects.get().trigger == "schedule"


def test_the_sweep_is_scheduled_every_four_hours_by_default():
    from emailengine.celery import app

    entry = app.conf.beat_schedule["reputation-sweep"]
    assert entry["task"] == "reputation.tasks.sweep_dnsbl"
    assert entry["schedule"] == 4 * 3600


def test_the_interval_comes_from_settings(settings):
    from emailengine.celery import _dnsbl_sweep_seconds

    settings.DNSBL_SWEEP_HOURS = 6
    assert _dnsbl_sweep_seconds() == 6 * 3600


@pytest.mark.django_db
def test_the_catalogue_is_loaded_by_a_migration_without_sorbs():
    keys = set(Blocklist.objects.values_list("key", flat=True))
    assert {entry.key for entry in CATALOGUE} <= keys
    for required in (
        "spamhaus-zen",
        "spamhaus-dbl",
        "barracuda",
        "spamcop",
        "uceprotect-l1",
        "uceprotect-l2",
        "uceprotect-l3",
        "psbl",
        "mailspike-bl",
        "mailspike-rep",
        "surbl",
        "uribl",
    ):
        assert required in keys
    assert not Blocklist.objects.filter(zone__icontains="sorbs").exists()
    zen = Blocklist.objects.get(key="spamhaus-zen")
    assert zen.error_codes["127.255.255.254"] and zen.severity == "critical" and zen.enabled
    assert Blocklist.objects.get(key="spamhaus-dbl").error_codes["127.0.1.255"]
    assert Blocklist.objects.get(key="uribl").error_codes["127.0.0.1"]
    # The engine runs on the rows: a row converts back to the shipped entry.
    assert zen.as_entry().codes == next(e for e in CATALOGUE if e.key == "spamhaus-zen").codes
    assert Blocklist.objects.get(key="surbl").as_entry().bitmask[8] == "SURBL: phishing"
