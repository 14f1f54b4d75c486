"""DNS blocklists: the shipped catalogue and the sweep engine (pure Python, no Django)."""

from reputation.dnsbl.catalogue import CATALOGUE, Blocklist, by_key, domain_lists, ip_lists
from reputation.dnsbl.engine import Result, classify, query_name, sweep, sweep_blocking

__all__ = [
    "CATALOGUE",
    "Blocklist",
    "Result",
    "by_key",
    "classify",
    "domain_lists",
    "ip_lists",
    "query_name",
    "sweep",
    "sweep_blocking",
]
