from django.urls import path

from warmup import views

urlpatterns = [
    path("warmup/", views.board, name="warmup_board"),
    path("warmup/<int:warmup_id>/action/", views.warmup_action, name="warmup_action"),
    path("warmup/ips/<int:ip_id>/", views.ip_warmup, name="warmup_ip"),
    path("warmup/ips/<int:ip_id>/assign/", views.ip_assign, name="warmup_ip_assign"),
    path("warmup/pools/<int:pool_id>/assign/", views.pool_assign, name="warmup_pool_assign"),
    path("warmup/plans/", views.plan_list, name="warmup_plan_list"),
    path("warmup/plans/<int:plan_id>/", views.plan_detail, name="warmup_plan_detail"),
    path("warmup/plans/<int:plan_id>/copy/", views.plan_copy, name="warmup_plan_copy"),
    path("warmup/plans/<int:plan_id>/edit/", views.plan_edit, name="warmup_plan_edit"),
    path("warmup/rules/", views.rule_list, name="warmup_rule_list"),
    path("warmup/rules/<int:rule_id>/", views.rule_edit, name="warmup_rule_edit"),
]
