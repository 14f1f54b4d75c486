from django.urls import path

from reputation import views

urlpatterns = [
    path("reputation/", views.reputation_overview, name="reputation_overview"),
    path("reputation/sweep/", views.reputation_sweep_now, name="reputation_sweep_now"),
    path("reputation/ips/<int:ip_id>/", views.reputation_ip, name="reputation_ip"),
    path("reputation/domains/<int:domain_id>/", views.reputation_domain, name="reputation_domain"),
    path("reputation/blocklists/", views.blocklist_list, name="blocklist_list"),
    path("reputation/providers/", views.provider_data, name="provider_data"),
    path("reputation/blocklists/<int:blocklist_id>/", views.blocklist_edit, name="blocklist_edit"),
]
