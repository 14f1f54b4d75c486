from django.urls import path

from tenants import views

urlpatterns = [
    path("tenants/", views.tenant_list, name="tenant_list"),
    path("tenants/new/", views.tenant_create, name="tenant_create"),
    path("tenants/<int:tenant_id>/", views.tenant_detail, name="tenant_detail"),
    path("tenants/<int:tenant_id>/members/add/", views.member_add, name="member_add"),
    path("members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("audit/", views.audit_list, name="audit_list"),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
