"""The scheduled directory import and the event pruning task."""

from __future__ import annotations

import gzip
import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import tasks
from campaigns.accounting.importer import (
    accounting_events_prune,
    accounting_import_dir,
    accounting_import_path,
)
from campaigns.models import AccountingFile, DailyStat, DeliveryEvent, Suppression
from campaigns.tests.factories import bounce, csv_text, record, tenant_ip
from emailengine.celery import app

pytestmark = pytest.mark.django_db


def _rows(start: int, n: int) -> list[dict[str, str]]:
    return [record(rcpt=f"user{i}@example.org") for i in range(start, start + n)]


def _age(path, seconds: int) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_it_does_nothing_without_accounting_dir(settings):
    settings.ACCOUNTING_DIR = ""
    result = accounting_import_dir()
    assert (result.read, result.files, result.failed_files) == (0, 0, [])
    assert tasks.accounting_import_dir_task() == {
        "read": 0,
        "imported": 0,
        "duplicates": 0,
        "rejected": 0,
        "by_type": {},
    }


def test_it_imports_new_and_grown_files_plain_and_gz(settings, tmp_path):
    settings.ACCOUNTING_DIR = str(tmp_path)
    (tmp_path / "acct-2025-07-10-0000.csv").write_text(csv_text(_rows(0, 3)))
    (tmp_path / "acct-2025-07-10-0001.csv.gz").write_bytes(gzip.compress(csv_text(_rows(3, 4)).encode()))
    (tmp_path / "notes.txt").write_text("not accounting")
    for path in tmp_path.iterdir():
        _age(path, 3600)
    first = accounting_import_dir()
    assert (first.files, first.imported, first.failed_files) == (2, 7, [])
    second = accounting_import_dir()
    assert (second.files, second.read) == (0, 0)
    live = tmp_path / "acct-2025-07-10-0000.csv"
    with live.open("a") as out:
        out.write(csv_text(_rows(7, 2)).split("\n", 1)[1])
    third = accounting_import_dir()
    assert (third.files, third.imported) == (1, 2)
    assert DeliveryEvent.objects.count() == 9


def test_a_file_still_being_written_keeps_its_last_line_until_it_settles(settings, tmp_path):
    settings.ACCOUNTING_DIR = str(tmp_path)
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(_rows(0, 2)) + "d,2025-07-10 12:00:00+0300")
    result = accounting_import_dir()
    assert (result.imported, result.rejected) == (2, 0)
    assert AccountingFile.objects.get().status == AccountingFile.Status.WAITING
    # unchanged and still fresh: skipped without reading
    assert accounting_import_dir().files == 0
    _age(path, 3600)
    settled = accounting_import_dir()
    assert (settled.read, settled.rejected) == (1, 1)
    assert AccountingFile.objects.get().status == AccountingFile.Status.DONE


def test_the_task_runs_through_celery_eagerly(settings, tmp_path):
    settings.ACCOUNTING_DIR = str(tmp_path)
    (tmp_path / "acct.csv").write_text(csv_text(_rows(0, 2)))
    summary = app.tasks["campaigns.tasks.accounting_import_dir"].apply().get()
    assert summary["imported"] == 2
    assert "campaigns.tasks.accounting_prune_events" in app.tasks


def test_beat_schedules_both_tasks():
    schedule = app.conf.beat_schedule
    assert schedule["accounting-import-dir"]["task"] == "campaigns.tasks.accounting_import_dir"
    assert schedule["accounting-prune-events"]["task"] == "campaigns.tasks.accounting_prune_events"


def test_pruning_removes_old_events_and_keeps_daily_stats_and_suppressions(tmp_path, settings, tenant_a):
    settings.ACCOUNTING_EVENT_RETENTION_DAYS = 30
    tenant_ip(tenant_a, "203.0.113.10")
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([*_rows(0, 3), bounce("gone@example.org")]))
    accounting_import_path(path=path)
    recent = DeliveryEvent.objects.order_by("pk").first()
    recent.time_logged = timezone.now() - timedelta(days=1)
    recent.save(update_fields=["time_logged"])
    stats_before = list(DailyStat.objects.values())
    assert accounting_events_prune() == 3
    assert list(DeliveryEvent.objects.all()) == [recent]
    assert list(DailyStat.objects.values()) == stats_before
    suppression = Suppression.objects.get()
    assert suppression.source_event is None and "bad-mailbox" in suppression.detail
    assert tasks.accounting_prune_events_task() == 0
