"""Navigation entries: list hygiene is for everyone signed in (viewers read, admins upload)."""

ITEMS = [
    ("List hygiene", "validation_list", "all", "Mail"),
]
