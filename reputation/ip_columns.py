"""The IP list's open-listings column and its "listed" filter.

ips discovers this module by name (ips.selectors.ip_list_columns); ips never imports reputation.
"""

from django.db.models import Q
from django.http import HttpRequest

from ips.selectors import IPColumn
from reputation.selectors import open_listing_count


def columns(request: HttpRequest) -> list[IPColumn]:
    # The list is already scoped to IPs this user may see; a listing is about the IP, whoever owns it.
    return [
        IPColumn(
            "listings",
            "Listings",
            open_listing_count(),
            title="Open blocklist listings of this IP (enabled lists)",
            filter_param="listed",
            filter_label="only listed",
            filter_q=Q(listings__gt=0),
            order=20,
            link="reputation_ip",
            link_kwargs=lambda ip: {"ip_id": ip.pk},
        )
    ]
