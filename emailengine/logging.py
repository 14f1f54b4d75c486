"""One JSON object per log line for production (LOG_FORMAT=json), standard library only.

Log shippers (journald, Docker's json-file driver, Loki, Vector) can then filter on fields such as
`job`, `event` or `duration_ms` instead of parsing free text. Anything passed in `extra=` becomes a field.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; whatever else is on a record came from `extra=` and is worth emitting.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


def _current_task() -> tuple[str, str] | None:
    """The Celery task this line is logged from, if any (without importing Celery into web processes)."""
    celery = sys.modules.get("celery")
    if celery is None:
        return None
    try:
        task = celery.current_task
        if task and task.request.id:
            return task.request.id, task.name
    except Exception:  # logging must never raise because of the task context
        return None
    return None


class JsonFormatter(logging.Formatter):
    """timestamp (UTC, ISO 8601), level, logger, message, then extra fields, exception text last."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        task = _current_task()
        if task is not None:
            payload["task_id"], payload["task_name"] = task
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_") and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        # default=str: an odd extra (a datetime, a Decimal, a model) must not lose the whole line.
        return json.dumps(payload, default=str, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING dict for settings: one console handler, plain text or JSON."""
    if log_format not in {"plain", "json"}:
        raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "emailengine.logging.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"axes": {"level": "WARNING"}},
    }


def connect_celery_logging() -> None:
    """With LOG_FORMAT=json, Celery workers and beat keep Django's LOGGING instead of their own text format.

    Celery configures logging itself unless a `setup_logging` receiver exists, so the receiver is only
    connected for JSON: local runs keep Celery's familiar coloured output.
    """
    from celery import signals
    from django.conf import settings

    if settings.LOG_FORMAT != "json":
        return

    def _setup(loglevel: int | str | None = None, **_: Any) -> None:
        import logging.config

        logging.config.dictConfig(settings.LOGGING)
        if loglevel:
            logging.getLogger().setLevel(loglevel)

    signals.setup_logging.connect(_setup, weak=False, dispatch_uid="emailengine-json-logging")
