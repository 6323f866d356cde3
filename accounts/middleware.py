from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
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


class UserLanguageMiddleware:
    """The pages speak the user's preferred language (``User.language``): at login it becomes
    the browser's language cookie (the profile page sets it too). The switch in the top bar
    still changes the language of the pages for this browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        language = getattr(request, "_user_language_at_login", None)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


@receiver(user_logged_in, dispatch_uid="accounts.language_at_login")
def language_at_login(sender, request, user, **kwargs) -> None:
    """At login the user's preferred language becomes the language of the pages."""
    if request is not None and getattr(user, "language", None):
        request._user_language_at_login = user.language
