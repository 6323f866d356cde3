from django.shortcuts import redirect

from accounts.selectors import user_has_totp

# Paths a user without a second factor may still reach: the pages that set one up, log
# out or switch language, static files and the health probe.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/", "/request-account/")


class RequireSecondFactorMiddleware:
    """Staff (and customers of organisations that demand it) reach nothing but the MFA set-up
    until they have a TOTP authenticator; with one, allauth asks for the code at every login."""

    SESSION_KEY = "accounts.second_factor_ok"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.mfa_required
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.session.get(self.SESSION_KEY)
        ):
            if not user_has_totp(user):
                return redirect("mfa_activate_totp")
            request.session[self.SESSION_KEY] = True
        return self.get_response(request)
