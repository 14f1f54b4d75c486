from celery import shared_task

from core.jobs import scheduled_job
from reputation import services


@shared_task(name="reputation.tasks.sweep_dnsbl")
@scheduled_job("reputation-sweep")
def sweep_dnsbl(trigger: str = "schedule") -> dict:
    """One stored blocklist sweep of the whole inventory (beat every DNSBL_SWEEP_HOURS, or "Sweep now")."""
    record = services.sweep_run(trigger=trigger)
    return {
        "sweep": record.pk,
        "queries": record.queries,
        "listed": record.listed,
        "errors": record.errors,
        "new_listings": record.new_listings,
        "cleared": record.cleared,
    }
