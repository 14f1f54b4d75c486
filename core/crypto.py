"""Secrets at rest (DKIM private keys, PMTA API keys), encrypted with Fernet keys from FIELD_ENCRYPTION_KEY.

Lives in `core` because every app may import it. Several comma-separated keys allow rotation: the first
encrypts, all decrypt; ``manage.py reencrypt_secrets`` rewrites every stored secret under the first key, after
which the old keys can go (README-DEPLOY.md, "Rotating FIELD_ENCRYPTION_KEY").
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_DEV_KEY_SEED = b"emailengine-development-only-key"


def _keys() -> list[str]:
    raw = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if not raw:
        if not settings.DEBUG:
            # core.checks reports this too, and the web, worker and beat processes refuse to start.
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set (required whenever DEBUG is off)")
        # Local runs (`make run` sets DEBUG) only: a fixed, documented key, so data survives restarts.
        raw = [base64.urlsafe_b64encode(hashlib.sha256(_DEV_KEY_SEED).digest()).decode()]
    return raw


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in _keys()])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def rotate(token: str) -> str:
    """The same secret encrypted under the first key (ValueError when no configured key opens it)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEY or corrupted value") from exc


def under_first_key(token: str) -> bool:
    """Whether ``token`` opens with the first (current) key, i.e. needs no rotation."""
    first = Fernet(_keys()[0].encode())
    try:
        first.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


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
