"""Key rotation: with FIELD_ENCRYPTION_KEY=new,old, `reencrypt_secrets` rewrites every encrypted field of
every model under the new key, in one transaction, audited; afterwards the old key can go."""

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEvent
from emailengine.management.commands.reencrypt_secrets import encrypted_fields
from ips.tests.factories import MtaServerFactory
from mailwizz.models import MailWizzConfig

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test constants
        return cursor.fetchone()[0]


def run(*args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("reencrypt_secrets", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def secrets_under_old_key(settings, tenant_a):
    settings.FIELD_ENCRYPTION_KEY = OLD
    server = MtaServerFactory(mgmt_api_key="pmta-api-key")
    config = MailWizzConfig.objects.create(
        tenant=tenant_a, base_url="https://mw.example/api", api_key="mw-key", private_key="mw-private"
    )
    return server, config


def test_it_covers_every_encrypted_field():
    names = {f"{model._meta.label}.{field.name}" for model, field in encrypted_fields()}
    assert {"ips.MtaServer.mgmt_api_key", "domains.DkimKey.private_key"} <= names
    assert any(name.endswith(".api_key") for name in names)


@pytest.mark.django_db
def test_it_rewrites_every_secret_under_the_new_key(settings, secrets_under_old_key):
    server, config = secrets_under_old_key
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"

    dry = run("--dry-run")
    assert (dry["rotated"], dry["current"]) == (3, 0)
    assert Fernet(OLD.encode()).decrypt(raw("ips_mtaserver", "mgmt_api_key", server.pk).encode())

    summary = run()
    assert summary["rotated"] == 3
    new_only = Fernet(NEW.encode())
    assert new_only.decrypt(raw("ips_mtaserver", "mgmt_api_key", server.pk).encode()) == b"pmta-api-key"
    assert AuditEvent.objects.filter(action="secrets.reencrypt").count() == 1

    # The old key can go now: everything still reads, and a second run has nothing to do.
    settings.FIELD_ENCRYPTION_KEY = NEW
    server.refresh_from_db()
    config.refresh_from_db()
    assert (server.mgmt_api_key, config.api_key) == ("pmta-api-key", "mw-key")
    assert config.private_key == "mw-private"
    assert run()["rotated"] == 0


@pytest.mark.django_db
def test_a_value_no_key_opens_stops_it_with_nothing_changed(settings, secrets_under_old_key):
    server, _config = secrets_under_old_key
    before = raw("ips_mtaserver", "mgmt_api_key", server.pk)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()  # the old key was lost
    with pytest.raises(CommandError, match="no FIELD_ENCRYPTION_KEY opens it"):
        run()
    assert raw("ips_mtaserver", "mgmt_api_key", server.pk) == before
    assert not AuditEvent.objects.filter(action="secrets.reencrypt").exists()
