ITEMS = [
    ("Warmup", "warmup_board", "all"),
    ("Plans", "warmup_plan_list", "operator"),
    ("Reply rules", "warmup_rule_list", "operator"),
]
