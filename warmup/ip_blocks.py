"""The warmup card on the IP page (ips.selectors.ip_detail_blocks discovers this module)."""

from django.http import HttpRequest

from ips.models import IPAddress
from ips.selectors import IPBlock
from warmup.models import IPWarmup


def blocks(request: HttpRequest, ip: IPAddress) -> list[IPBlock]:
    warmup = IPWarmup.objects.filter(ip=ip).select_related("plan").first()
    context = {"ip": ip, "warmup": warmup, "steps": warmup.plan.steps.count() if warmup else 0}
    return [IPBlock(title="Warmup", template="warmup/_ip_block.html", context=context, order=10)]
