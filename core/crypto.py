"""Secrets at rest (DKIM private keys, PMTA API keys), encrypted with Fernet keys from FIELD_ENCRYPTION_KEY.

Lives in `tenants` because every app may import it. Several comma-separated keys allow rotation: the first
encrypts, all decrypt.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_DEV_KEY_SEED = b"emailengine-development-only-key"


def _fernet() -> MultiFernet:
    raw = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if not raw:
        if not settings.ALLOW_DEV_ENCRYPTION_KEY:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set")
        # Local runs and tests only: a fixed, documented key, so data survives restarts.
        raw = [base64.urlsafe_b64encode(hashlib.sha256(_DEV_KEY_SEED).digest()).decode()]
    return MultiFernet([Fernet(k.encode()) for k in raw])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEY or corrupted value") from exc


class EncryptedTextField(models.TextField):
    """Stores ciphertext; the model attribute is plain text. Empty stays empty."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
