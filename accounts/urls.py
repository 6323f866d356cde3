from django.urls import path

from accounts import sso_views, views

app_name = "accounts"
urlpatterns = [
    path("account-requests/", views.account_request_list, name="request_list"),
    path("account-requests/<int:pk>/approve/", views.account_request_approve, name="request_approve"),
    path("account-requests/<int:pk>/decide/", views.account_request_decide, name="request_decide"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("settings/profile/", views.profile, name="profile"),
    path("settings/notifications/", views.staff_notifications, name="staff_notifications"),
    path("settings/tokens/", views.api_token_list, name="api_tokens"),
    path("settings/webhooks/", views.webhook_list, name="webhooks"),
    path("settings/sso/", sso_views.sso_list, name="sso_list"),
    path("settings/sso/<int:pk>/", sso_views.sso_edit, name="sso_edit"),
    path("settings/sso/<int:pk>/remove/", sso_views.sso_remove, name="sso_remove"),
]
