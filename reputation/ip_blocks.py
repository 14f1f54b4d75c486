"""Cards on the IP page (ips.selectors.ip_detail_blocks discovers this module): blocklists, and Microsoft
SNDS (the provider data that is per IP; Postmaster Tools is per domain, on the provider page)."""

from django.http import HttpRequest

from core.dates import utc_today
from ips.models import IPAddress
from ips.selectors import IPBlock
from reputation.provider_charts import PROVIDER_DAYS, ip_snds
from reputation.selectors import open_listings_for_ip


def blocks(request: HttpRequest, ip: IPAddress) -> list[IPBlock]:
    # The IP page already checked that this user may see the IP.
    context = {"ip": ip, "open": open_listings_for_ip(ip)}
    snds = {"ip": ip, "snds": ip_snds(ip.address, until=utc_today()), "days": PROVIDER_DAYS}
    return [
        IPBlock(title="Blocklists", template="reputation/_ip_block.html", context=context, order=20),
        IPBlock(title="Microsoft SNDS", template="reputation/_ip_snds_block.html", context=snds, order=25),
    ]
