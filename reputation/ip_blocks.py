"""The blocklist card on the IP page (ips.selectors.ip_detail_blocks discovers this module)."""

from django.http import HttpRequest

from ips.models import IPAddress
from ips.selectors import IPBlock
from reputation.selectors import open_listings_for_ip


def blocks(request: HttpRequest, ip: IPAddress) -> list[IPBlock]:
    # The IP page already checked that this user may see the IP.
    context = {"ip": ip, "open": open_listings_for_ip(ip)}
    return [IPBlock(title="Blocklists", template="reputation/_ip_block.html", context=context, order=20)]
