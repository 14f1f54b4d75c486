from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from emailengine import api, health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/", api.urls()),
    path("", include("tenants.urls")),
    path("", include("ips.urls")),
    path("", include("domains.urls")),
    path("", include("reputation.urls")),
    path("", include("campaigns.urls")),
    path("", include("hygiene.urls")),
    path("", include("mailwizz.urls")),
    path("", include("warmup.urls")),
]
