"""A file PMTA is still writing: its cut last line is never lost, with or without --not-final."""

from __future__ import annotations

import os
import time

import pytest

from campaigns.accounting.importer import accounting_import_path
from campaigns.models import AccountingFile, DeliveryEvent, ImportRejection
from campaigns.tests.factories import csv_text, record

pytestmark = pytest.mark.django_db


def _lines(n: int) -> list[str]:
    return csv_text([record(rcpt=f"user{i}@example.org") for i in range(n)]).splitlines(keepends=True)


def _settle(path) -> None:
    past = time.time() - 3600
    os.utime(path, (past, past))


@pytest.mark.parametrize("final", [True, False])
def test_a_cut_last_line_waits_for_the_rest_and_is_then_imported_whole(tmp_path, final):
    lines = _lines(4)
    path = tmp_path / "acct.csv"
    cut = len(lines[4]) // 2
    path.write_text("".join(lines[:4]) + lines[4][:cut])
    first = accounting_import_path(path=path, final=final)
    assert (first.imported, first.rejected) == (3, 0)
    assert first.left_waiting == (1 if final else 0)
    source = AccountingFile.objects.get()
    assert source.status == AccountingFile.Status.WAITING
    with open(path, "a") as handle:
        handle.write(lines[4][cut:])
    second = accounting_import_path(path=path, final=final)
    assert (second.imported, second.rejected, second.left_waiting) == (1, 0, 0)
    assert DeliveryEvent.objects.filter(rcpt="user3@example.org").exists()
    assert not ImportRejection.objects.exists()
    assert AccountingFile.objects.get().status == (
        AccountingFile.Status.DONE if final else AccountingFile.Status.WAITING
    )


def test_a_settled_file_cut_short_rejects_its_last_line_and_reads_it_whole_if_it_grows(tmp_path):
    lines = _lines(2)
    path = tmp_path / "acct.csv"
    path.write_text("".join(lines[:2]) + lines[2][:20])
    _settle(path)
    first = accounting_import_path(path=path)
    assert (first.imported, first.rejected) == (1, 1)
    with open(path, "a") as handle:
        handle.write(lines[2][20:])
    _settle(path)
    second = accounting_import_path(path=path)
    assert (second.imported, second.rejected, second.failed_files) == (1, 0, [])
    assert DeliveryEvent.objects.count() == 2
    assert AccountingFile.objects.get().status == AccountingFile.Status.DONE


def test_a_complete_fresh_file_is_done(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text("".join(_lines(3)))
    result = accounting_import_path(path=path)
    assert (result.imported, result.left_waiting) == (3, 0)
    assert AccountingFile.objects.get().status == AccountingFile.Status.DONE
