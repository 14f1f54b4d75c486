"""List hygiene pages."""

from django.urls import path

from hygiene import views

urlpatterns = [
    path("validation/", views.validation_list, name="validation_list"),
    path("validation/<int:job_id>/", views.validation_detail, name="validation_detail"),
    path("validation/<int:job_id>/result.csv", views.validation_download, name="validation_download"),
]
