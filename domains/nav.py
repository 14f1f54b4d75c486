"""Navigation entries of the domains app (see tenants/nav.py for the format)."""

ITEMS = [
    ("Domains", "domain_list", "all", "Fleet"),
    ("DKIM for PMTA", "dkim_fragment", "operator", "Fleet"),
]
