"""Models that moved between apps kept every table and row: a database filled by `seed_demo` and
`seed_scale --small` under the old layout migrates to the new one with per-table row counts unchanged.

The old layout is the schema before the apps that received models (MOVED_TO) existed; the moves only change
Django's state (`SeparateDatabaseAndState`), so going back to it and forward again must not touch a row.
"""

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.audit import audit_record
from core.models import AuditEvent, ScheduledJobState
from hygiene.models import ValidationChunk, ValidationJob
from hygiene.tests.factories import make_job
from mailwizz.models import MailWizzCampaign, MailWizzConfig, MailWizzOutbox
from tenants.models import Tenant

# The apps that received models from others; before their first migration the old layout holds.
MOVED_TO = ["core", "hygiene", "mailwizz"]


def _table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = sorted(t for t in connection.introspection.table_names(cursor) if t != "django_migrations")
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from introspection
            counts[table] = cursor.fetchone()[0]
    return counts


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def _to_latest() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_it_moves_models_with_every_row():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_scale", "--small", stdout=StringIO())
    ScheduledJobState.objects.create(name="ips-health-poll", runs=3)
    # The seeds leave these empty; one row each of the moved models.
    job = make_job(Tenant.objects.first(), lines=["a@good.example", "b@good.example"])
    ValidationChunk.objects.create(job=job, index=0, first_row=0, results=[["valid", ""]])
    tenant = job.tenant
    MailWizzConfig.objects.create(tenant=tenant, base_url="https://mw.example.com/api", api_key="secret-key")
    MailWizzCampaign.objects.create(tenant=tenant, uid="ab12cd34ef", name="Spring")
    MailWizzOutbox.objects.create(tenant=tenant, kind="complaint", email="c@example.com")
    audited = audit_record(
        action="layout.moved", by="system: test", obj=tenant, before={"a": 1}, after={"a": 2}
    )
    audit_ct = ContentType.objects.get_for_model(AuditEvent)
    latest = _to_latest()
    seeded = _table_counts()

    _migrate([(app, None) for app in MOVED_TO])
    old = _table_counts()
    # Going back also unapplies migrations that came after the moves (tables they create are gone in the
    # old layout); every table of the old layout keeps its rows both ways.
    assert {table: seeded[table] for table in old} == old
    assert old["tenants_scheduledjobstate"] == 1
    assert old["campaigns_validationjob"] == old["campaigns_validationchunk"] == 1
    assert old["campaigns_mailwizzconfig"] == old["campaigns_mailwizzcampaign"] == 1
    assert old["campaigns_mailwizzoutbox"] == 1
    assert sum(old.values()) > 1000, "seed data is missing"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tenants_auditevent WHERE object_type = 'campaigns.validationjob'"
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT app_label FROM django_content_type WHERE id = %s", [audit_ct.pk])
        assert cursor.fetchone()[0] == "tenants"
    assert old["tenants_auditevent"] > 1

    _migrate(latest)
    new = _table_counts()
    assert {table: new[table] for table in old} == old
    assert ScheduledJobState.objects.get().runs == 3
    assert ContentType.objects.get_for_model(ScheduledJobState).app_label == "core"
    assert ValidationJob.objects.get().chunks.get().results == [["valid", ""]]
    assert ContentType.objects.get_for_model(ValidationJob).app_label == "hygiene"
    assert AuditEvent.objects.filter(object_type="hygiene.validationjob", object_id=str(job.pk)).exists()
    assert AuditEvent.objects.count() == old["tenants_auditevent"]
    moved = AuditEvent.objects.get(pk=audited.pk)
    assert (moved.tenant, moved.before, moved.after) == (tenant, {"a": 1}, {"a": 2})
    # The content type moved with the model (the same row, so permissions and admin log entries follow).
    assert ContentType.objects.get(pk=audit_ct.pk).app_label == "core"
    assert ContentType.objects.get_for_model(AuditEvent) == audit_ct
    # Encrypted fields still decrypt: the rows were not rewritten.
    assert MailWizzConfig.objects.get().api_key == "secret-key"
    assert ContentType.objects.get_for_model(MailWizzOutbox).app_label == "mailwizz"
