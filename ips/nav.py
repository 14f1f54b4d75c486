"""Navigation entries: operators get IPs, Pools, Servers; tenant users IPs and Pools (read-only)."""

ITEMS = [
    ("IPs", "ip_list", "all"),
    ("Pools", "pool_list", "all"),
    ("Servers", "server_list", "operator"),
    ("Providers", "provider_list", "operator"),
]
