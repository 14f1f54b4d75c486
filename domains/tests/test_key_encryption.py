"""DKIM private keys are encrypted at rest: the database row never holds the PEM."""

import pytest
from django.db import connection

from domains.dkim_keys import public_key_from_private
from domains.models import DkimKey


@pytest.mark.django_db
def test_it_stores_the_private_key_encrypted(make_domain):
    domain = make_domain("example.com")
    key = DkimKey.objects.get(domain=domain)

    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key, public_key_b64 FROM domains_dkimkey WHERE id = %s", [key.pk])
        raw_private, raw_public = cursor.fetchone()

    assert "PRIVATE KEY" not in raw_private
    assert "-----BEGIN" not in raw_private
    assert raw_private.startswith("gAAAA")  # a Fernet token
    # Through the model it is the PEM again, and it matches the published public key.
    assert key.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_key_from_private(key.private_key) == raw_public == key.public_key_b64


@pytest.mark.django_db
def test_it_cannot_read_keys_with_another_encryption_key(make_domain, settings):
    from cryptography.fernet import Fernet

    domain = make_domain("example.com")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(ValueError, match="cannot decrypt"):
        DkimKey.objects.get(domain=domain).private_key  # noqa: B018
