"""Navigation entries of this app. Each app may have a nav.py with ITEMS; the menu is built from all of them.

An item is (label, url name, who, section): who is "operator", "tenant" (any tenant user), "tenant_admin" or
"all"; section is one of tenants.context_processors.NAV_GROUPS (the menu's headings).
"""

ITEMS = [
    ("Tenants", "tenant_list", "operator", "Account"),
    ("Audit", "audit_list", "operator", "Account"),
    ("Audit", "audit_list", "tenant_admin", "Account"),
    ("API tokens", "api_tokens", "all", "Account"),
]
