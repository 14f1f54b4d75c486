"""Navigation entries of the reputation app (see tenants/nav.py)."""

ITEMS = [
    ("Reputation", "reputation_overview", "all", "Reputation"),
    ("Blocklists", "blocklist_list", "operator", "Reputation"),
    ("Provider data", "provider_data", "all", "Reputation"),
]
