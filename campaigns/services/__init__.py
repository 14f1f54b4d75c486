"""Workflows of the campaigns app that people start, one module per area (the accounting import's own live in
campaigns/accounting/)."""
