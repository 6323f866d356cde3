"""Single sign-on: the managers' settings page and the login page's "sign in with your
organisation" (``accounts.sso`` holds the rules)."""

import logging

import requests
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import sso as service
from accounts.forms import OrganisationSsoForm, SsoLoginForm
from accounts.models import Organisation, OrganisationSso
from accounts.permissions import manager_required
from sla_portal.client_ip import client_ip

logger = logging.getLogger(__name__)

# Each attempt makes our server fetch the provider's discovery document (up to the request
# time-out): a client gets this many a minute.
SSO_LOGIN_ATTEMPTS_PER_MINUTE = 20


@manager_required
def sso_list(request):
    chosen = request.GET.get("organisation", "")
    if chosen.isdigit():
        return redirect("accounts:sso_edit", pk=int(chosen))
    configured = OrganisationSso.objects.select_related("organisation", "app").prefetch_related("domains")
    configured = configured.order_by("organisation__name")
    others = Organisation.objects.filter(sso__isnull=True).order_by("name").values_list("pk", "name")
    return render(request, "accounts/sso_list.html", {"configured": configured, "others": others})


@manager_required
def sso_edit(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    sso = OrganisationSso.objects.select_related("app").filter(organisation=organisation).first()
    initial = {}
    if sso:
        initial = {
            "server_url": sso.app.settings.get("server_url", ""),
            "client_id": sso.app.client_id,
            "domains": ", ".join(sso.domains.values_list("domain", flat=True)),
        }
    form = OrganisationSsoForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                service.organisation_sso_configure(
                    organisation=organisation, by=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(
                    request, _("Single sign-on of %(organisation)s saved.") % {"organisation": organisation}
                )
                return redirect("accounts:sso_list")
        status = 400
    callback = request.build_absolute_uri(
        reverse("openid_connect_callback", kwargs={"provider_id": service.sso_provider_id(organisation)})
    )
    return render(
        request,
        "accounts/sso_form.html",
        {"organisation": organisation, "sso": sso, "form": form, "callback_url": callback},
        status=status,
    )


@manager_required
@require_POST
def sso_remove(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk)
    service.organisation_sso_remove(organisation=organisation, by=request.user)
    messages.success(
        request, _("Single sign-on of %(organisation)s switched off.") % {"organisation": organisation}
    )
    return redirect("accounts:sso_list")


def _rate_limited(request) -> bool:
    key = f"sso-login:{client_ip(request)}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) > SSO_LOGIN_ATTEMPTS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return False


def sso_login(request):
    """The visitor gives their e-mail address; if its domain has SSO, on to that provider."""
    form = SsoLoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if _rate_limited(request):
            form.add_error(None, _("Too many attempts; wait a minute and try again."))
            status = 429
        elif form.is_valid():
            sso = service.sso_for_email(form.cleaned_data["email"])
            if sso is None:
                form.add_error(
                    "email", _("There is no single sign-on for this address; log in with your password.")
                )
            else:
                next_url = request.POST.get("next") or ""
                if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                    next_url = None
                provider = sso.app.get_provider(request)
                try:
                    return provider.redirect(request, process="login", next_url=next_url)
                except (requests.RequestException, OAuth2Error, ValueError, KeyError) as exc:
                    logger.warning(
                        "SSO provider of organisation %s unreachable: %s",
                        sso.organisation_id,
                        type(exc).__name__,
                    )
                    form.add_error(
                        None,
                        _(
                            "The sign-on service of %(organisation)s does not answer. Try again later or "
                            "log in with your password."
                        )
                        % {"organisation": sso.organisation},
                    )
                    status = 502
    return render(
        request, "accounts/sso_login.html", {"form": form, "next": request.GET.get("next", "")}, status=status
    )
