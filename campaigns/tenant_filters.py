"""The tenant list's "over a rate threshold" filter (?over=1), the home page's "tenants over a rate
threshold" count's list.

tenants discovers this module by name (tenants.selectors.tenant_list_filters); tenants never imports
campaigns. The set is campaigns.trends.tenants_over_threshold, the one the home page counts, so the count
and the filtered list cannot disagree.
"""

from django.http import HttpRequest

from campaigns import trends
from tenants.selectors import TenantFilter


def _over_threshold(request: HttpRequest) -> list[int]:
    return [int(row.key) for row in trends.tenants_over_threshold(request)]


def filters() -> list[TenantFilter]:
    return [
        TenantFilter(
            "over",
            f"only over a rate threshold ({trends.LEVEL_DAYS} days)",
            _over_threshold,
            order=10,
        )
    ]
