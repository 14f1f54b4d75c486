"""Operator URLs for running PMTA hosts; ips/urls.py appends these."""

from django.urls import path

from ips import views_ops, views_providers

urlpatterns = [
    path("servers/topqueues/", views_ops.topqueues_paste, name="topqueues_paste"),
    path("servers/<int:server_id>/config/", views_ops.server_config, name="server_config"),
    path(
        "servers/<int:server_id>/health/poll/", views_ops.server_health_poll_view, name="server_health_poll"
    ),
    path("ips/<int:ip_id>/rdns/check/", views_ops.ip_rdns_check_view, name="ip_rdns_check"),
    path("providers/", views_providers.provider_list, name="provider_list"),
    path("providers/new/", views_providers.provider_edit, name="provider_create"),
    path("providers/<int:group_id>/", views_providers.provider_edit, name="provider_edit"),
    path("providers/<int:group_id>/delete/", views_providers.provider_delete, name="provider_delete"),
]
