ITEMS = [
    ("Warmup", "warmup_board", "all", "Fleet"),
    ("Plans", "warmup_plan_list", "operator", "Fleet"),
    ("Reply rules", "warmup_rule_list", "operator", "Reputation"),
]
