"""manage.py import_accounting: summary, --json, exit codes."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from campaigns.accounting import importer
from campaigns.tests.factories import FIXTURES, MtaServerFactory, csv_text, record

pytestmark = pytest.mark.django_db

FILES = [str(p) for p in sorted(Path(FIXTURES).glob("acct-*.csv"))]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("import_accounting", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_prints_one_json_object_and_imports_nothing_the_second_time():
    first = json.loads(_run(*FILES, "--json"))
    assert first == {
        "read": 79,
        "imported": 79,
        "duplicates": 0,
        "rejected": 0,
        "by_type": {"b": 53, "d": 26},
        "errors": [],
    }
    second = json.loads(_run(*FILES, "--json"))
    assert second == {"read": 0, "imported": 0, "duplicates": 0, "rejected": 0, "by_type": {}, "errors": []}


def test_it_reports_rejections_with_file_and_line(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(), record(type="zz", rcpt="x@example.org")]))
    data = json.loads(_run(str(path), "--json"))
    assert (data["read"], data["imported"], data["rejected"]) == (2, 1, 1)
    assert data["errors"] == [{"file": str(path), "line": 3, "reason": "unknown record type 'zz'"}]
    text = _run(str(path))  # nothing left to read; still a summary
    assert text.startswith("read 0, imported 0")


def test_the_human_summary_lists_reasons(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(), record(timeLogged="soon")]))
    text = _run(str(path))
    assert "read 2, imported 1 (d=1), duplicates 0, rejected 1" in text
    assert f"rejected {path} line 3: bad timeLogged 'soon'" in text


def test_errors_are_capped_with_a_count_of_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "ERRORS_IN_RESULT", 2)
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(type="zz", rcpt=f"{i}@example.org") for i in range(5)]))
    data = json.loads(_run(str(path), "--json"))
    assert len(data["errors"]) == 2 and data["errors_truncated"] == 3


def test_it_exits_non_zero_when_a_file_cannot_be_read(tmp_path):
    good = tmp_path / "acct.csv"
    good.write_text(csv_text([record()]))
    out = StringIO()
    with pytest.raises(CommandError, match="1 file\\(s\\) could not be read"):
        call_command("import_accounting", str(good), str(tmp_path / "missing.csv"), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["imported"] == 1
    assert data["failed_files"][0]["file"] == str(tmp_path / "missing.csv")


def test_bad_rows_alone_do_not_fail_the_command(tmp_path):
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record(type="zz")]))
    assert json.loads(_run(str(path), "--json"))["rejected"] == 1


def test_server_option(tmp_path):
    from campaigns.models import DeliveryEvent

    server = MtaServerFactory(name="mta-x")
    path = tmp_path / "acct.csv"
    path.write_text(csv_text([record()]))
    _run(str(path), "--server", "mta-x")
    assert DeliveryEvent.objects.get().server == server
    with pytest.raises(CommandError, match="no server named nope"):
        _run(str(path), "--server", "nope")
