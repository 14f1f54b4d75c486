"""deploy/pmta/acct-webhook run for real: PMTA's side is a pipe, Email Engine's a local HTTP stand-in."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "pmta" / "acct-webhook"
HEADER = b"type,timeLogged,rcpt,bounceCat,dsnDiag\n"
TOKEN = "s3cret-token"


def _row(n: int) -> bytes:
    diag = f'"smtp;250 ok, queued as {n}"'
    return f"d,2025-07-10 11:58:{n % 60:02d}+0300,user{n}@example.com,,{diag}\n".encode()


class _Recorder(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(
            {"auth": self.headers["Authorization"], "type": self.headers["Content-Type"], "body": body}
        )
        rows = body.count(b"\n") - 1
        reply = json.dumps({"accepted": rows, "duplicates": 0, "rejected": 0, "errors": []}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self, port: int, status: int) -> None:
        super().__init__(("127.0.0.1", port), _Recorder)
        self.requests: list[dict] = []
        self.status = status
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def rows(self) -> list[bytes]:
        return [line for r in self.requests for line in r["body"].splitlines(keepends=True)[1:]]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def servers() -> Iterator[Callable[..., _Server]]:
    started: list[_Server] = []

    def start(port: int = 0, status: int = 200) -> _Server:
        server = _Server(port, status)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def _start(port: int, spool: Path, token_file: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "ACCT_WEBHOOK_TOKEN"}
    # stderr to a file: a pipe nobody reads could fill up and stall the program under test
    log = open(spool.parent / "acct-webhook.log", "wb")  # noqa: SIM115 - closed by _finish
    proc = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--url",
            f"http://127.0.0.1:{port}/hooks/pmta/accounting",
            "--token-file",
            str(token_file),
            "--spool-dir",
            str(spool),
            "--batch-size",
            "3",
            "--batch-age",
            "0.2",
            "--retry-min",
            "0.05",
            "--retry-max",
            "0.2",
            "--timeout",
            "2",
            "--drain-timeout",
            "5",
            *extra,
        ],
        stdin=subprocess.PIPE,
        stderr=log,
        env=env,
    )
    proc.log = log  # type: ignore[attr-defined]
    return proc


def _finish(proc: subprocess.Popen) -> str:
    if not proc.stdin.closed:
        proc.stdin.close()
    try:
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.log.close()  # type: ignore[attr-defined]
    err = Path(proc.log.name).read_text()  # type: ignore[attr-defined]
    assert proc.returncode == 0, err
    return err


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.csv"))


def test_it_posts_batches_with_the_header_line_and_token(servers, tmp_path, token_file):
    server = servers()
    proc = _start(server.port, tmp_path / "spool", token_file)
    proc.stdin.write(HEADER + b"".join(_row(n) for n in range(7)))
    proc.stdin.close()
    _finish(proc)
    assert server.requests, "nothing was posted"
    for request in server.requests:
        assert request["body"].startswith(HEADER)
        assert request["auth"] == f"Bearer {TOKEN}"
        assert request["type"].startswith("text/csv")
        assert 1 <= request["body"].count(b"\n") - 1 <= 3
    assert server.rows() == [_row(n) for n in range(7)]
    assert _spooled(tmp_path / "spool") == []


def test_it_sends_a_partial_batch_after_the_batch_age(servers, tmp_path, token_file):
    server = servers()
    proc = _start(server.port, tmp_path / "spool", token_file)
    try:
        proc.stdin.write(HEADER + _row(1))
        proc.stdin.flush()
        _wait_for(lambda: server.rows() == [_row(1)], timeout=5)
    finally:
        _finish(proc)


def test_it_spools_while_the_server_is_down_and_delivers_in_order_later(servers, tmp_path, token_file):
    port = _free_port()
    spool = tmp_path / "spool"
    proc = _start(port, spool, token_file)
    sent = [_row(n) for n in range(12)]
    try:
        proc.stdin.write(HEADER + b"".join(sent[:5]))
        proc.stdin.flush()
        _wait_for(lambda: len(_spooled(spool)) >= 2)
        # still reading stdin while the server is away
        proc.stdin.write(b"".join(sent[5:9]))
        proc.stdin.flush()
        _wait_for(lambda: sum(p.read_bytes().count(b"\n") - 1 for p in _spooled(spool)) == 9)
        assert all(p.read_bytes().startswith(HEADER) for p in _spooled(spool))
        server = servers(port=port)
        _wait_for(lambda: len(server.rows()) == 9)
        proc.stdin.write(b"".join(sent[9:]))
    finally:
        err = _finish(proc)
    assert "cannot reach" in err
    received = server.rows()
    assert len(received) == len(set(received)) == 12
    assert received == sent
    assert _spooled(spool) == []


def test_it_sets_aside_a_batch_the_server_refuses(servers, tmp_path, token_file):
    server = servers(status=400)
    spool = tmp_path / "spool"
    proc = _start(server.port, spool, token_file)
    proc.stdin.write(HEADER + _row(1) + _row(2))
    proc.stdin.close()
    err = _finish(proc)
    assert len(server.requests) == 1
    assert "HTTP 400" in err
    assert _spooled(spool) == []
    (rejected,) = _spooled(spool / "rejected")
    assert rejected.read_bytes() == HEADER + _row(1) + _row(2)


def test_it_drains_an_earlier_spool_first(servers, tmp_path, token_file):
    server = servers()
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "0000000000000007.csv").write_bytes(HEADER + _row(1))
    (spool / ".0000000000000008.csv.tmp").write_bytes(HEADER + b"d,half")
    proc = _start(server.port, spool, token_file)
    proc.stdin.write(HEADER + _row(2))
    proc.stdin.close()
    _finish(proc)
    assert server.rows() == [_row(1), _row(2)]
    assert list(spool.iterdir()) == []


def test_it_refuses_to_run_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ACCT_WEBHOOK_TOKEN"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", "http://127.0.0.1:9/", "--spool-dir", str(tmp_path)],
        input=b"",
        capture_output=True,
        env=env,
        timeout=10,
    )
    assert result.returncode != 0
    assert b"ACCT_WEBHOOK_TOKEN" in result.stderr


def test_it_takes_the_token_from_the_environment(servers, tmp_path):
    server = servers()
    env = dict(os.environ, ACCT_WEBHOOK_TOKEN="from-env")
    url = f"http://127.0.0.1:{server.port}/hooks/pmta/accounting"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", url, "--spool-dir", str(tmp_path / "spool")],
        input=HEADER + _row(1),
        capture_output=True,
        env=env,
        timeout=15,
    )
    assert result.returncode == 0, result.stderr
    assert [r["auth"] for r in server.requests] == ["Bearer from-env"]


def test_it_prints_help():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, timeout=10)
    assert result.returncode == 0
    assert b"--spool-dir" in result.stdout


def test_it_keeps_unsent_records_on_disk_when_terminated(tmp_path, token_file):
    spool = tmp_path / "spool"
    proc = _start(_free_port(), spool, token_file, "--batch-size", "100", "--batch-age", "30")
    sent = [_row(n) for n in range(4)]
    proc.stdin.write(HEADER + b"".join(sent))
    proc.stdin.flush()
    _wait_for(spool.is_dir)
    time.sleep(0.3)  # let the reader thread take the lines off the pipe
    proc.send_signal(signal.SIGTERM)
    _finish(proc)
    bodies = [p.read_bytes() for p in _spooled(spool)]
    assert all(body.startswith(HEADER) for body in bodies)
    assert [line for body in bodies for line in body.splitlines(keepends=True)[1:]] == sent
