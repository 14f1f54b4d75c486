"""Exactly once across crashes, growing files, rotation and renames."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from campaigns.accounting import importer
from campaigns.accounting.importer import accounting_import_path
from campaigns.models import AccountingCounter, AccountingFile, DailyStat, DeliveryEvent
from campaigns.tests.factories import csv_text, record

pytestmark = pytest.mark.django_db


def _records(start: int, n: int) -> list[dict[str, str]]:
    return [record(rcpt=f"user{i}@example.org", jobId=f"job-{i % 3}") for i in range(start, start + n)]


def _totals() -> tuple[int, int]:
    return DeliveryEvent.objects.count(), DailyStat.objects.aggregate(n=Sum("delivered"))["n"] or 0


class Crash(Exception):
    pass


def _crash_on_batch(monkeypatch, number: int, *, after_insert: bool) -> None:
    """Make the ``number``-th batch fail: before its transaction, or after its inserts ran inside it."""
    original = importer._Writer._write_once
    calls = {"n": 0}

    def write_once(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            if after_insert:
                original(self, *args, **kwargs)
            raise Crash("power cut")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(importer._Writer, "_write_once", write_once)


@pytest.mark.parametrize("after_insert", [False, True])
def test_it_resumes_after_a_crash_mid_file_without_loss_or_double_counting(
    tmp_path, monkeypatch, after_insert
):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(_records(0, 10)))
    _crash_on_batch(monkeypatch, 3, after_insert=after_insert)
    with pytest.raises(Crash):
        accounting_import_path(path=path, batch_size=3)
    source = AccountingFile.objects.get()
    assert (source.imported, source.lines) == (6, 7)  # two batches committed, header + 6 lines
    assert _totals() == (6, 6)
    monkeypatch.undo()
    result = accounting_import_path(path=path, batch_size=3)
    assert (result.read, result.imported, result.duplicates) == (4, 4, 0)
    assert _totals() == (10, 10)
    source.refresh_from_db()
    assert (source.records_read, source.imported, source.offset) == (10, 10, path.stat().st_size)
    assert AccountingCounter.objects.get(name="imported:d").value == 10


def test_a_growing_file_is_imported_incrementally(tmp_path):
    path = tmp_path / "acct.csv"
    text = csv_text(_records(0, 8))
    head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    path.write_text(head)
    first = accounting_import_path(path=path, final=False)
    assert first.rejected == 0
    with path.open("a") as out:
        out.write(tail)
    second = accounting_import_path(path=path, final=False)
    assert second.rejected == 0 and second.duplicates == 0
    assert first.imported + second.imported == 8
    with path.open("a") as out:
        out.write(csv_text(_records(8, 2)).split("\n", 1)[1])  # rows only
    third = accounting_import_path(path=path, final=True)
    assert (third.read, third.imported) == (2, 2)
    assert _totals() == (10, 10)
    source = AccountingFile.objects.get()
    assert (source.records_read, source.imported, source.lines) == (10, 10, 11)


def test_a_rotated_file_at_the_same_path_starts_over_as_a_new_source(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(_records(0, 3)))
    accounting_import_path(path=path, final=False)
    path.write_text(csv_text(_records(100, 5), header=list(reversed(record().keys()))))
    result = accounting_import_path(path=path)
    assert (result.read, result.imported) == (5, 5)
    assert AccountingFile.objects.count() == 2
    assert _totals() == (8, 8)


def test_a_renamed_file_continues_where_it_stopped(tmp_path):
    live = tmp_path / "acct.csv"
    live.write_text(csv_text(_records(0, 20)))
    accounting_import_path(path=live, final=False)
    rotated = tmp_path / "acct-2025-07-10-0000.csv"
    live.rename(rotated)
    with rotated.open("a") as out:
        out.write(csv_text(_records(20, 2)).split("\n", 1)[1])
    result = accounting_import_path(path=rotated)
    assert (result.read, result.imported, result.duplicates) == (2, 2, 0)
    source = AccountingFile.objects.get()
    assert source.path == str(rotated)
    assert _totals() == (22, 22)


def test_a_file_rewritten_shorter_is_read_again_from_the_start(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text(_records(0, 6)))
    accounting_import_path(path=path)
    path.write_text(csv_text(_records(0, 2)))  # same first bytes, shorter
    result = accounting_import_path(path=path)
    assert (result.read, result.duplicates) == (2, 2)
    assert AccountingFile.objects.count() == 2
