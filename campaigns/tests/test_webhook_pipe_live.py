"""deploy/pmta/acct-webhook against the real Django webhook (live_server) with a real server token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from campaigns.models import AccountingFile, DailyStat, DeliveryEvent
from campaigns.tests.factories import csv_text, record, server_with_token

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "pmta" / "acct-webhook"


@pytest.mark.django_db(transaction=True)
def test_it_delivers_piped_records_to_the_webhook_exactly_once(live_server, tmp_path):
    server, token = server_with_token("live-mta")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    recs = [record(rcpt=f"user{i}@example.org") for i in range(7)]
    # PMTA writes the header line once, then records; the same record written twice counts once.
    piped = csv_text(recs) + csv_text(recs[:2]).split("\n", 1)[1]
    env = {k: v for k, v in os.environ.items() if k != "ACCT_WEBHOOK_TOKEN"}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--url",
            f"{live_server.url}/hooks/pmta/accounting",
            "--token-file",
            str(token_file),
            "--spool-dir",
            str(tmp_path / "spool"),
            "--batch-size",
            "3",
            "--batch-age",
            "0.2",
            "--retry-min",
            "0.05",
            "--retry-max",
            "0.2",
            "--timeout",
            "10",
            "--drain-timeout",
            "20",
        ],
        input=piped.encode(),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert DeliveryEvent.objects.filter(server=server).count() == 7
    assert DailyStat.objects.get().delivered == 7
    source = AccountingFile.objects.get(kind="webhook")
    assert (source.server, source.records_read, source.imported, source.duplicates) == (server, 9, 7, 2)
    assert not list((tmp_path / "spool").glob("*.csv"))
    assert not (tmp_path / "spool" / "rejected").exists() or not list(
        (tmp_path / "spool" / "rejected").iterdir()
    )
