from celery import shared_task

from core.jobs import scheduled_job
from reputation import services


@shared_task(name="reputation.tasks.sweep_dnsbl")
@scheduled_job("reputation-sweep")
def sweep_dnsbl(trigger: str = "schedule", targets: list[str] | None = None) -> dict:
    """One stored blocklist sweep of the whole inventory (beat every DNSBL_SWEEP_HOURS, or "Sweep now"), or
    of only ``targets`` (addresses and domain names of the inventory: the grid's "Re-check now")."""
    record = services.sweep_run(trigger=trigger, targets=targets)
    return {
        "sweep": record.pk,
        "queries": record.queries,
        "listed": record.listed,
        "errors": record.errors,
        "new_listings": record.new_listings,
        "cleared": record.cleared,
    }


@shared_task(name="reputation.tasks.import_postmaster")
@scheduled_job("provider-postmaster-import")
def import_postmaster() -> dict:
    """Daily: Google Postmaster Tools v2 metrics for every enabled account (reputation/providers/)."""
    from reputation.models import ProviderAccount
    from reputation.providers.postmaster import postmaster_import

    done = {}
    for account in ProviderAccount.objects.filter(kind="postmaster", enabled=True):
        result = postmaster_import(account=account)
        done[account.label] = {"domains": result.domains, "days": result.days, "errors": len(result.errors)}
    return done


@shared_task(name="reputation.tasks.import_snds")
@scheduled_job("provider-snds-import")
def import_snds() -> dict:
    """Daily: Microsoft SNDS per-IP data for every enabled key."""
    from reputation.models import ProviderAccount
    from reputation.providers.snds import snds_import

    done = {}
    for account in ProviderAccount.objects.filter(kind="snds", enabled=True):
        result = snds_import(account=account)
        done[account.label] = {"rows": result.rows, "rejected": len(result.rejected), "error": result.error}
    return done
