"""Finding: the accounting webhook read a chunked request body (no Content-Length, as a streaming client
sends it) as empty, so PMTA's records were refused. Tested through gunicorn, the production server, which
decodes the chunks before the app reads them."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaigns.models import DeliveryEvent
from campaigns.tests.factories import csv_text, record, server_with_token
from testsupport.dburl import subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn():
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "DEBUG": "0"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "emailengine.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _post_chunked(port: int, token: str, pieces: list[bytes]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/hooks/pmta/accounting",
        body=iter(pieces),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_read_whole(gunicorn):
    server, token = server_with_token("chunked-mta")
    text = csv_text([record(rcpt=f"user{i}@example.org") for i in range(5)]).encode()
    pieces = [text[i : i + 100] for i in range(0, len(text), 100)]  # several chunks, cut mid-line
    status, body = _post_chunked(gunicorn, token, pieces)
    assert status == 200, body
    assert DeliveryEvent.objects.filter(server=server).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_refused(gunicorn, settings):
    _server, token = server_with_token("chunked-mta-2")
    # The limit lives in the gunicorn process's settings (10 MB by default): send more than that.
    status, _ = _post_chunked(gunicorn, token, [b"x" * (1 << 20)] * 11)
    assert status == 413
