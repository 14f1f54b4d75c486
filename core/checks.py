"""System checks for the secrets and network settings core owns, and the start-up gate that uses them.

``manage.py check`` (and ``check --deploy``, and every command that runs the checks, ``migrate`` included)
reports them as errors. Gunicorn (emailengine/wsgi.py), the Celery worker and beat (emailengine/celery.py)
do not run Django's checks, so they call ``refuse_to_start_on_errors`` and exit instead of serving.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


def encryption_key_errors() -> list[CheckMessage]:
    keys = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    errors: list[CheckMessage] = []
    if not keys and not settings.DEBUG:
        errors.append(
            Error(
                "FIELD_ENCRYPTION_KEY is not set, and DEBUG is off.",
                hint="Secrets at rest would be encrypted with the development key that is in the source. "
                "Generate a key (README-DEPLOY.md, section 2) and set FIELD_ENCRYPTION_KEY.",
                id="core.E001",
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                Error(
                    f"FIELD_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key.",
                    hint="A Fernet key is 32 random bytes, url-safe base64 encoded (44 characters).",
                    id="core.E002",
                )
            )
    return errors


def outbound_setting_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for item in settings.OUTBOUND_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"OUTBOUND_ALLOWED_NETWORKS: {item!r} is not a network.",
                    hint="Give networks as CIDRs or single addresses, e.g. 10.0.5.0/24,192.168.1.20.",
                    id="core.E003",
                )
            )
    return errors


@register(Tags.security)
def check_encryption_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return encryption_key_errors()


@register(Tags.security)
def check_outbound_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return outbound_setting_errors()


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured, naming every problem, when a long-running process must not start."""
    errors = [*encryption_key_errors(), *outbound_setting_errors()]
    if errors:
        lines = "\n".join(f"{e.id}: {e.msg} {e.hint or ''}".strip() for e in errors)
        raise ImproperlyConfigured(f"Refusing to start:\n{lines}")
