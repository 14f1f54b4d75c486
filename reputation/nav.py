"""Navigation entries of the reputation app (see tenants/nav.py)."""

ITEMS = [
    ("Reputation", "reputation_overview", "all"),
    ("Blocklists", "blocklist_list", "operator"),
    ("Provider data", "provider_data", "all"),
]
