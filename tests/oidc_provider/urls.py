"""The provider's routes: django-oauth-toolkit's endpoints under /o/, and /login/?email=
which logs a user in at the provider without a form (the test plays the person)."""

from django.contrib.auth import get_user_model, login
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import include, path
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "email": "email", "email_verified": "email"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            # A user whose first name is "unverified" has an address the provider never checked.
            "email_verified": user.first_name != "unverified",
            "name": user.get_full_name() or user.email,
        }

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        # The tests' organisations get new ids in every test: any callback of the test server.
        return redirect_uri.startswith("http://testserver/accounts/oidc/")


def login_as(request):
    email = request.GET.get("email", "")
    user = get_user_model().objects.filter(email=email).first()
    if user is None:
        return HttpResponseBadRequest("unknown user")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(request.GET.get("next", "/"))


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("login/", login_as),
]
