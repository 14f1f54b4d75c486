from django.urls import path

from domains import views

urlpatterns = [
    path("domains/", views.domain_list, name="domain_list"),
    path("domains/new/", views.domain_create, name="domain_create"),
    path("domains/dkim/fragment/", views.dkim_fragment, name="dkim_fragment"),
    path("domains/dkim/keys/", views.dkim_keys_export, name="dkim_keys_export"),
    path("domains/<int:domain_id>/", views.domain_detail, name="domain_detail"),
    path("domains/<int:domain_id>/check/", views.domain_check, name="domain_check"),
    path("domains/<int:domain_id>/edit/", views.domain_edit, name="domain_edit"),
    path("domains/<int:domain_id>/verify/", views.domain_verify, name="domain_verify"),
    path("domains/<int:domain_id>/verify/skip/", views.domain_verify_skip, name="domain_verify_skip"),
    path("domains/<int:domain_id>/delete/", views.domain_delete, name="domain_delete"),
    path("domains/<int:domain_id>/dkim/start/", views.rotation_start, name="dkim_rotation_start"),
    path("domains/<int:domain_id>/dkim/verify/", views.rotation_verify, name="dkim_rotation_verify"),
    path("domains/<int:domain_id>/dkim/activate/", views.rotation_activate, name="dkim_rotation_activate"),
    path("domains/<int:domain_id>/dkim/cancel/", views.rotation_cancel, name="dkim_rotation_cancel"),
    path("domains/<int:domain_id>/dkim/retire/", views.rotation_retire, name="dkim_rotation_retire"),
]
