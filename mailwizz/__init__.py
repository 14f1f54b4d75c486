"""MailWizz integration: API client, campaign sync, and bounce/complaint feedback (issue 8)."""
