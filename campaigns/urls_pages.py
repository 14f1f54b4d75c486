"""Dashboard pages of the campaigns app; campaigns/urls.py appends these to its own patterns."""

from django.urls import path

from campaigns import views, views_enforcement

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("bounces/", views.bounce_explorer, name="bounce_explorer"),
    path("messages/", views.message_search, name="message_search"),
    path("suppression/", views.suppression_list, name="suppression_list"),
    path("suppression/add/", views.suppression_add_view, name="suppression_add"),
    path("suppression/import/", views.suppression_import_view, name="suppression_import"),
    path(
        "suppression/imports/<int:import_id>/",
        views.suppression_import_detail,
        name="suppression_import_detail",
    ),
    path("suppression/export.csv", views.suppression_export, name="suppression_export"),
    path(
        "suppression/<int:suppression_id>/remove/", views.suppression_remove_view, name="suppression_remove"
    ),
    path("imports/", views.import_list, name="import_list"),
    path("tenant-holds/", views_enforcement.tenant_hold_list, name="tenant_hold_list"),
    path(
        "tenant-holds/<int:hold_id>/release/",
        views_enforcement.tenant_hold_release_view,
        name="tenant_hold_release",
    ),
    path("imports/<int:file_id>/", views.import_detail, name="import_detail"),
    path("imports/records/", views.rejection_list, name="rejection_list"),
    path("imports/records/<int:rejection_id>/download/", views.rejection_download, name="rejection_download"),
]
