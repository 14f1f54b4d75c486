"""LOG_FORMAT=json gives one JSON object per line with the extra fields; plain stays the local default."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emailengine.logging import JsonFormatter, logging_config

ROOT = Path(__file__).resolve().parents[2]


def _record(msg: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("emailengine.jobs", logging.INFO, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_it_formats_a_record_as_one_json_object_with_its_extra_fields():
    line = JsonFormatter().format(
        _record("job %s finished", "ips-health-poll", job="ips-health-poll", event="end", duration_ms=12)
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "emailengine.jobs"
    assert entry["message"] == "job ips-health-poll finished"
    assert entry["timestamp"].endswith("+00:00")
    assert (entry["job"], entry["event"], entry["duration_ms"]) == ("ips-health-poll", "end", 12)
    assert "args" not in entry and "msg" not in entry and "exception" not in entry


def test_it_includes_the_traceback_and_survives_odd_values():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        line = JsonFormatter().format(_record("failed", exc_info=sys.exc_info(), obj=object()))
    entry = json.loads(line)
    assert "ValueError: bad" in entry["exception"]
    assert entry["obj"].startswith("<object object")


def test_it_builds_plain_or_json_logging_and_rejects_anything_else():
    assert logging_config(log_format="plain", level="INFO")["handlers"]["console"]["formatter"] == "plain"
    json_config = logging_config(log_format="json", level="WARNING")
    assert json_config["handlers"]["console"]["formatter"] == "json"
    assert json_config["root"]["level"] == "WARNING"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def test_it_logs_json_lines_from_a_django_process_when_log_format_is_json():
    code = (
        "import logging; "
        "logging.getLogger('emailengine.jobs').info('hello %s', 'ops', extra={'job': 'x', 'event': 'start'})"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "emailengine.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"message": "hello ops", "job": "x", "event": "start"}.items() <= lines[-1].items()
