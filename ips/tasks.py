"""Celery tasks for PMTA hosts and IPs: thin wrappers that take ids and call a service."""

from __future__ import annotations

import functools

from celery import shared_task
from django.db import transaction

from core.jobs import scheduled_job
from ips.agent import BY_DELIVERY
from ips.health import server_health_poll
from ips.models import IPAddress, IPStatus, MtaServer
from ips.pmta_config import config_render_and_store
from ips.rdns_service import ip_rdns_check


@shared_task
@scheduled_job("ips-health-poll")
def poll_all_servers() -> int:
    """Every 5 minutes: one task per pollable server, so one hanging host does not delay the others."""
    ids = list(MtaServer.objects.exclude(mgmt_url="").order_by("pk").values_list("pk", flat=True))
    for server_id in ids:
        transaction.on_commit(functools.partial(poll_server_task.delay, server_id))
    return len(ids)


@shared_task(soft_time_limit=60)
def poll_server_task(server_id: int) -> str:
    server = MtaServer.objects.filter(pk=server_id).first()
    if server is None:
        return "gone"  # deleted since it was queued
    return server_health_poll(server=server).label


@shared_task
@scheduled_job("ips-rdns-recheck")
def recheck_rdns_all() -> int:
    """Daily: re-check the PTR of every IP that is not retired, one task each."""
    ids = list(IPAddress.objects.exclude(status=IPStatus.RETIRED).order_by("pk").values_list("pk", flat=True))
    for ip_id in ids:
        transaction.on_commit(functools.partial(ip_rdns_check_task.delay, ip_id))
    return len(ids)


@shared_task(soft_time_limit=60)
def ip_rdns_check_task(ip_id: int) -> str:
    ip = IPAddress.objects.select_related("pool__tenant").filter(pk=ip_id).first()
    if ip is None:
        return "gone"
    return ip_rdns_check(ip=ip).status


@shared_task(soft_time_limit=50)
@scheduled_job("ips-config-render")
def render_all_server_configs() -> int:
    """Every minute: each server's desired config version follows every change (limits, holds, keys, groups).

    The agent's own fetch renders on the spot too; this keeps the server page, /metrics and the drift alert
    right when an agent is silent. Returns how many servers got a new version.
    """
    changed = 0
    for server in MtaServer.objects.order_by("pk"):
        _render, diff = config_render_and_store(server=server, by=BY_DELIVERY)
        changed += bool(diff)
    return changed
