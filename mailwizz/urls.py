"""URLs of the MailWizz pages."""

from django.urls import path

from mailwizz import views

urlpatterns = [
    path("mailwizz/", views.mailwizz_home, name="mailwizz_home"),
    path("mailwizz/tenants/<int:tenant_id>/", views.mailwizz_settings, name="mailwizz_settings"),
    path("mailwizz/tenants/<int:tenant_id>/test/", views.mailwizz_test, name="mailwizz_test"),
    path("mailwizz/tenants/<int:tenant_id>/sync/", views.mailwizz_sync_now, name="mailwizz_sync_now"),
    path("mailwizz/tenants/<int:tenant_id>/campaigns/", views.mailwizz_campaigns, name="mailwizz_campaigns"),
    path("mailwizz/outbox/", views.mailwizz_outbox, name="mailwizz_outbox"),
    path("mailwizz/outbox/<int:outbox_id>/retry/", views.mailwizz_outbox_retry, name="mailwizz_outbox_retry"),
]
