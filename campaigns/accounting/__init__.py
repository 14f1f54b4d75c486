"""PowerMTA accounting: parsing (parser) and outcome classification (classify); pure stdlib."""
