"""Navigation entries of this app. Each app may have a nav.py with ITEMS; the menu is built from all of them.

An item is (label, url name, who): who is "operator", "tenant" (any tenant user), "tenant_admin" or "all".
"""

ITEMS = [
    ("Tenants", "tenant_list", "operator"),
    ("Audit", "audit_list", "operator"),
    ("Audit", "audit_list", "tenant_admin"),
    ("API tokens", "api_tokens", "all"),
]
