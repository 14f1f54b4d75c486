"""The Celery app and the one place where every periodic schedule is declared."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")

app = Celery("emailengine")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# django-celery-beat's DatabaseScheduler copies these into the database on start, so the
# admin shows them; the code stays the source of truth.
app.conf.beat_schedule: dict[str, dict] = {}
