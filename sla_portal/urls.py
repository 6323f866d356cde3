from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import sso_views
from accounts import views as account_views
from disclosure import views as disclosure_views
from sla_portal.health import healthz

# The admin logs in through allauth, so the second factor applies there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(".well-known/security.txt", disclosure_views.security_txt, name="security_txt"),
    path("security/", include("disclosure.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Nobody signs up by themselves (accounts.adapter): allauth's sign-up leads to the request form.
    path("accounts/signup/", RedirectView.as_view(pattern_name="account_request")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("sla_portal.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("sso/", sso_views.sso_login, name="sso_login"),
    path("request-account/", account_views.account_request_create, name="account_request"),
    path("", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("portal/service/", include("managers.urls_portal")),  # reports, availability, announcements
    path("portal/", include("tickets.urls.portal")),
    path("desk/", include("tickets.urls.desk")),
    path("manager/", include("managers.urls")),
]

handler500 = "sla_portal.outage.server_error"
