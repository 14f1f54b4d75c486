from django.urls import path

from reputation import views

urlpatterns = [
    path("reputation/", views.reputation_overview, name="reputation_overview"),
    path("reputation/sweep/", views.reputation_sweep_now, name="reputation_sweep_now"),
    path("reputation/bulk/", views.reputation_bulk, name="reputation_bulk"),
    path("reputation/ips/<int:ip_id>/", views.reputation_ip, name="reputation_ip"),
    path("reputation/domains/<int:domain_id>/", views.reputation_domain, name="reputation_domain"),
    path("reputation/blocklists/", views.blocklist_list, name="blocklist_list"),
    path("reputation/providers/", views.provider_data, name="provider_data"),
    path("reputation/providers/accounts/new/", views.provider_account_new, name="provider_account_new"),
    path("reputation/providers/accounts/<int:account_id>/", views.provider_account, name="provider_account"),
    path(
        "reputation/providers/accounts/<int:account_id>/test/",
        views.provider_account_test,
        name="provider_account_test",
    ),
    path(
        "reputation/providers/accounts/<int:account_id>/delete/",
        views.provider_account_delete,
        name="provider_account_delete",
    ),
    path("reputation/blocklists/<int:blocklist_id>/", views.blocklist_edit, name="blocklist_edit"),
]
