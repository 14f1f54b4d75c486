"""Finding: a list uploaded while the Celery broker was unreachable gave a 500, although the job had been
saved. The upload now succeeds, the page says the check will start by itself once the queue is back, and the
stale-job schedule queues it then."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from emailengine.celery import app
from hygiene.models import ValidationJob
from hygiene.services import validation_jobs_requeue_stale

# A real request runs outside a transaction, so the queue send happens before the page is built.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down():
    """Point the real Celery app at a port where nothing listens (no broker), then put it back."""
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0", broker_transport_options={})
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None


def test_an_upload_while_the_broker_is_down_is_saved_and_reported(login, admin_a, tenant_a, broker_down):
    client = login(admin_a)
    upload = SimpleUploadedFile(
        "list.csv", b"email\nana@example.com\nbob@example.org\n", content_type="text/csv"
    )
    response = client.post("/validation/", {"file": upload}, follow=True)
    assert response.status_code == 200
    job = ValidationJob.objects.get()
    assert (job.tenant, job.status, job.total) == (tenant_a, "new", 2)
    html = response.content.decode()
    assert "the job queue is unreachable" in html and "nothing needs to be uploaded again" in html

    # Once the stale period has passed, the schedule picks the job up again.
    later = job.updated_at + timedelta(hours=1)
    assert validation_jobs_requeue_stale(now=later) == [job.pk]
