"""Navigation entries: tenant admins set up their own MailWizz; operators see every tenant's."""

ITEMS = [
    ("MailWizz", "mailwizz_home", "tenant_admin", "Account"),
    ("MailWizz", "mailwizz_home", "operator", "Account"),
]
