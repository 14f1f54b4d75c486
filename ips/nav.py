"""Navigation entries: operators get IPs, Pools, Servers; tenant users IPs and Pools (read-only)."""

ITEMS = [
    ("IPs", "ip_list", "all", "Fleet"),
    ("Pools", "pool_list", "all", "Fleet"),
    ("Servers", "server_list", "operator", "Fleet"),
    ("Providers", "provider_list", "operator", "Fleet"),
]
