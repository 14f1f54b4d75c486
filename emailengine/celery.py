"""The Celery app and the one place where every periodic schedule is declared."""

import os
import sys
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, worker_init

from emailengine.logging import connect_celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")

app = Celery("emailengine")

# kombu's filesystem transport (settings: no REDIS_URL) creates none of var/broker's folders but
# control/ (and that one only when var/broker exists): with the folder missing, every enqueue (the
# webhook's follow-up tasks, after the commit) logged FileNotFoundError and the task was lost.
FILESYSTEM_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def make_filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    """Create the filesystem transport's folders when the app reads its configuration (the first enqueue
    of a web process, a worker's or beat's start); nothing to do with a Redis broker."""
    conf = sender.conf
    if not str(conf.broker_url or "").startswith("filesystem:"):
        return
    options = conf.broker_transport_options or {}
    for key in FILESYSTEM_BROKER_FOLDERS:
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


app.on_after_configure.connect(make_filesystem_broker_folders, weak=False)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Work is split by area, one worker service per queue (docker-compose.yml, deploy/systemd), so a long
# validation run or MailWizz sync never delays the warmup ramp or a health poll. Routes match task names
# (module paths), so new tasks in those modules are routed without touching this file.
TASK_QUEUES = ("default", "accounting", "warmup", "validation", "mailwizz")
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "hygiene.*": {"queue": "validation"},
    "mailwizz.*": {"queue": "mailwizz"},
    # Names from before the hygiene and mailwizz apps existed, still registered for messages queued then.
    "campaigns.validation.*": {"queue": "validation"},
    "campaigns.mailwizz.*": {"queue": "mailwizz"},
    "campaigns.tasks.*": {"queue": "accounting"},
    "warmup.*": {"queue": "warmup"},
}
# With LOG_FORMAT=json, workers and beat log through Django's LOGGING (JSON lines) instead of Celery's text.
connect_celery_logging()


@worker_init.connect
@beat_init.connect
def _refuse_to_start_without_secrets(**kwargs: object) -> None:
    """Workers and beat do not run Django's system checks: without the production secrets they exit here.
    (Celery logs and swallows exceptions from signal handlers, so this exits rather than raises.)"""
    from django.core.exceptions import ImproperlyConfigured

    from core.checks import refuse_to_start_on_errors

    try:
        refuse_to_start_on_errors()
    except ImproperlyConfigured as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None


def _dnsbl_sweep_seconds() -> float:
    """Blocklist sweep interval: settings.DNSBL_SWEEP_HOURS (from the env or .env), 4 hours by default."""
    from django.conf import settings

    return float(settings.DNSBL_SWEEP_HOURS) * 3600


# django-celery-beat's DatabaseScheduler copies these into the database on start, so the
# admin shows them; the code stays the source of truth.
BEAT_SCHEDULE: dict[str, dict] = {
    "domains-recheck": {"task": "domains.tasks.recheck_all_domains", "schedule": 3600.0},
    "dkim-retire-expired": {"task": "domains.tasks.retire_expired_dkim_keys", "schedule": 86400.0},
    "ips-health-poll": {"task": "ips.tasks.poll_all_servers", "schedule": 300.0},
    "ips-rdns-recheck": {"task": "ips.tasks.recheck_rdns_all", "schedule": 86400.0},
    # Each PMTA server's desired config version (the host agent applies it within its 30 s interval).
    "ips-config-render": {"task": "ips.tasks.render_all_server_configs", "schedule": 60.0},
    "reputation-sweep": {"task": "reputation.tasks.sweep_dnsbl", "schedule": _dnsbl_sweep_seconds()},
    # Provider data, daily: Postmaster Tools publishes a day's figures the next day, SNDS likewise.
    "provider-postmaster-import": {
        "task": "reputation.tasks.import_postmaster",
        "schedule": crontab(minute=30, hour=6),
    },
    "provider-snds-import": {"task": "reputation.tasks.import_snds", "schedule": crontab(minute=45, hour=6)},
    # no-op unless ACCOUNTING_DIR is set
    "accounting-import-dir": {"task": "campaigns.tasks.accounting_import_dir", "schedule": 60.0},
    # Retention is a partition drop; partitions for the coming days are made (and late records settled
    # out of the default partition) every hour, well ahead of need.
    "accounting-prune-events": {"task": "campaigns.tasks.accounting_prune_events", "schedule": 86400.0},
    # Tenants over their complaint or bounce threshold are held (campaigns/enforcement.py).
    "tenant-enforcement": {"task": "emailengine.tasks.tenants_enforce", "schedule": 3600.0},
    "accounting-event-partitions": {
        "task": "campaigns.tasks.accounting_event_partitions",
        "schedule": 3600.0,
    },
    # The ramp decides each day's limits from the previous (UTC) day's results.
    "warmup-daily-ramp": {"task": "warmup.tasks.run_daily_ramp", "schedule": crontab(minute=0, hour=0)},
    "warmup-expire-reply-actions": {"task": "warmup.tasks.expire_reply_rule_actions", "schedule": 300.0},
    # Re-queues validation jobs whose worker died, so none stays "running".
    "validation-resume-stuck": {
        "task": "hygiene.tasks.validation_resume_stuck",
        "schedule": 120.0,
    },
    # Re-queues suppression imports whose worker died, so none stays "running".
    "suppression-import-resume-stuck": {
        "task": "campaigns.tasks.suppression_import_resume_stuck",
        "schedule": 120.0,
    },
    # MailWizz: campaign names every 15 minutes; bounces and complaints posted back every minute.
    "mailwizz-sync": {"task": "mailwizz.tasks.sync_all", "schedule": 900.0},
    "mailwizz-feedback": {"task": "mailwizz.tasks.feedback_all", "schedule": 60.0},
}
app.conf.beat_schedule = BEAT_SCHEDULE
