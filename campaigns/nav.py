"""Navigation entries: everyone signed in gets the delivery pages; import history is for operators."""

ITEMS = [
    ("Campaigns", "campaign_list", "all"),
    ("Bounces", "bounce_explorer", "all"),
    ("Messages", "message_search", "all"),
    ("Suppression", "suppression_list", "all"),
    ("Imports", "import_list", "operator"),
    ("Tenant holds", "tenant_hold_list", "all"),
]
