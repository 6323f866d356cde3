from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("account-requests/", views.account_request_list, name="request_list"),
    path("account-requests/<int:pk>/decide/", views.account_request_decide, name="request_decide"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("settings/tokens/", views.api_token_list, name="api_tokens"),
    path("settings/webhooks/", views.webhook_list, name="webhooks"),
]
