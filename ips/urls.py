from django.urls import path

from ips import hooks, views
from ips.urls_ops import urlpatterns as ops_urlpatterns

urlpatterns = [
    path("ips/", views.ip_list, name="ip_list"),
    path("ips/bulk/", views.ip_bulk, name="ip_bulk"),
    path("ips/add/", views.ip_bulk_add, name="ip_bulk_add"),
    path("ips/<int:ip_id>/", views.ip_detail, name="ip_detail"),
    path("ips/<int:ip_id>/status/", views.ip_set_status, name="ip_set_status"),
    path("ips/<int:ip_id>/move/", views.ip_move, name="ip_move"),
    path("ips/<int:ip_id>/edit/", views.ip_edit, name="ip_edit"),
    path("pools/", views.pool_list, name="pool_list"),
    path("pools/new/", views.pool_create, name="pool_create"),
    path("pools/<int:pool_id>/", views.pool_detail, name="pool_detail"),
    path("pools/<int:pool_id>/edit/", views.pool_edit, name="pool_edit"),
    path("servers/", views.server_list, name="server_list"),
    path("servers/new/", views.server_create, name="server_create"),
    path("servers/<int:server_id>/", views.server_detail, name="server_detail"),
    path("servers/<int:server_id>/edit/", views.server_edit, name="server_edit"),
    path("servers/<int:server_id>/rotate-token/", views.server_rotate_token, name="server_rotate_token"),
    # The PMTA host agent (deploy/pmta/ee-agent), authenticated by the server's token.
    path("hooks/pmta/config", hooks.pmta_config_hook, name="pmta_config_hook"),
    path("hooks/pmta/applied", hooks.pmta_applied_hook, name="pmta_applied_hook"),
]

# Config rendering, health polling and rDNS pages.
urlpatterns += ops_urlpatterns
