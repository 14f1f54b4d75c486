"""Navigation entries: everyone signed in gets the delivery pages; import history is for operators."""

ITEMS = [
    ("Campaigns", "campaign_list", "all", "Mail"),
    ("Bounces", "bounce_explorer", "all", "Mail"),
    ("Messages", "message_search", "all", "Mail"),
    ("Suppression", "suppression_list", "all", "Mail"),
    ("Imports", "import_list", "operator", "Mail"),
    ("Tenant holds", "tenant_hold_list", "all", "Reputation"),
]
