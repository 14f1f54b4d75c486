from django.apps import AppConfig


class MailwizzConfig(AppConfig):
    name = "mailwizz"
    verbose_name = "MailWizz"
    default_auto_field = "django.db.models.BigAutoField"
