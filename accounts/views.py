from allauth.core import ratelimit
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services, webhooks
from accounts.forms import (
    AccountRequestApproveForm,
    AccountRequestDecisionForm,
    AccountRequestForm,
    ProfileForm,
    StaffNotificationsForm,
)
from accounts.models import (
    AccountRequest,
    AccountRequestStatus,
    Organisation,
    Role,
    Subscription,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    subscribable_topics,
)
from accounts.permissions import manager_required
from accounts.tenancy import get_for_user_or_404


@login_required
def home(request):
    """Everyone lands on the page of their role."""
    user = request.user
    if user.is_customer:
        return redirect("portal:home")
    if user.role == Role.CONSULTANT:
        return redirect("desk:consultancy")
    if user.is_manager:
        return redirect("manager:home")
    return redirect("desk:queue")


def account_request_create(request):
    """The public form. It answers alike whether or not the address has an account, and takes
    a limited number of requests per client address (``ACCOUNT_RATE_LIMITS["account_request"]``)."""
    form = AccountRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="account_request"):
            form.add_error(
                None,
                _(
                    "Too many account requests came from your address. Try again in an hour, "
                    "or ask your organisation's coordinator to contact support."
                ),
            )
            return render(request, "accounts/accountrequest_form.html", {"form": form}, status=429)
        try:
            services.account_request_create(**form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return render(request, "accounts/accountrequest_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/accountrequest_form.html", {"form": form})


@manager_required
def account_request_list(request):
    return render(
        request,
        "accounts/accountrequest_list.html",
        {"requests": selectors.account_request_list_pending(), "form": AccountRequestDecisionForm()},
    )


@manager_required
@require_POST
def account_request_decide(request, pk: int):
    account_request = get_object_or_404(AccountRequest, pk=pk)
    form = AccountRequestDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("accounts:request_list")
    try:
        if form.cleaned_data["decision"] == "approve":
            services.account_request_approve(account_request=account_request, by=request.user)
            messages.success(
                request,
                _("Account created for %(email)s; they have been e-mailed how to log in.")
                % {"email": account_request.email},
            )
        else:
            services.account_request_reject(
                account_request=account_request, by=request.user, note=form.cleaned_data["note"]
            )
            messages.success(request, _("Request of %(email)s rejected.") % {"email": account_request.email})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:request_list")


@manager_required
def account_request_approve(request, pk: int):
    """Approve a request: the organisation (an existing one, or a new one with its contract)
    and the role. A refused coordinator seat or a taken name is a form error; nothing is saved."""
    account_request = get_object_or_404(AccountRequest, pk=pk, status=AccountRequestStatus.PENDING)
    existing = Organisation.objects.filter(name__iexact=account_request.organisation_name).first()
    form = AccountRequestApproveForm(
        request.POST or None,
        initial={
            "organisation": existing,
            "organisation_name": "" if existing else account_request.organisation_name,
            "role": Role.CUSTOMER_USER,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.account_request_approve(
                    account_request=account_request,
                    by=request.user,
                    organisation=data["organisation"],
                    new_organisation=data["organisation_name"],
                    service_level=data["service_level"],
                    contract_from=data["contract_from"],
                    role=data["role"],
                )
            except ValidationError as exc:
                _form_errors_add(form, exc)
            except IntegrityError:  # another manager saved the same organisation name meanwhile
                form.add_error(None, _("Someone else changed this just now; check and try again."))
            else:
                messages.success(
                    request,
                    _("Account created for %(email)s; they have been e-mailed how to log in.")
                    % {"email": account_request.email},
                )
                return redirect("accounts:request_list")
        status = 400
    return render(
        request,
        "accounts/accountrequest_approve.html",
        {"account_request": account_request, "form": form},
        status=status,
    )


# The models' field names as the approval form calls them.
_APPROVE_FIELDS = {"name": "organisation_name", "valid_from": "contract_from"}


def _form_errors_add(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = _APPROVE_FIELDS.get(field, field)
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@login_required
def organisation_detail(request, pk: int):
    organisation = get_for_user_or_404(Organisation.objects.all(), request.user, pk=pk)
    return render(
        request,
        "accounts/organisation_detail.html",
        {
            "organisation": organisation,
            "members": organisation.users.filter(is_active=True).order_by("full_name"),
        },
    )


@login_required
def api_token_list(request):
    """The user's settings page for personal API tokens: a new key is shown once."""
    new_key = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                token_id = forms.IntegerField().clean(request.POST["revoke"])
                services.api_token_revoke(user=request.user, token_id=token_id)
                messages.success(request, _("Token revoked."))
                return redirect("accounts:api_tokens")
            name = forms.CharField(required=False).clean(request.POST.get("name", ""))  # no NUL bytes
            _token, new_key = services.api_token_create(user=request.user, name=name)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request, "accounts/apitoken_list.html", {"tokens": request.user.api_tokens.all(), "new_key": new_key}
    )


@manager_required
def webhook_list(request):
    """Managers register HTTPS endpoints for events and see the delivery log."""
    if request.method == "POST":
        try:
            if "deactivate" in request.POST:
                pk = forms.IntegerField().clean(request.POST["deactivate"])
                Webhook.objects.filter(pk=pk).update(active=False)
                messages.success(request, _("Webhook switched off."))
            else:
                hook = webhooks.webhook_create(
                    url=forms.CharField(required=False).clean(request.POST.get("url", "")),  # no NUL bytes
                    events=request.POST.getlist("events"),
                    by=request.user,
                )
                messages.success(
                    request, _("Webhook registered. Its signing secret: %(secret)s") % {"secret": hook.secret}
                )
            return redirect("accounts:webhooks")
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
    return render(
        request,
        "accounts/webhook_list.html",
        {
            "hooks": Webhook.objects.all(),
            "events": WebhookEvent.choices,
            "deliveries": WebhookDelivery.objects.select_related("webhook")[:50],
        },
    )


def _remember_language(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@login_required
def profile(request):
    """Everyone's own page: name and language here; password, second factor, notifications and
    API tokens on their own pages, linked from here."""
    user = request.user
    form = ProfileForm(request.POST or None, initial={"full_name": user.full_name, "language": user.language})
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_form_errors(form, exc)
        else:
            translation.activate(user.language)
            messages.success(request, _("Your profile was saved."))
            response = redirect("accounts:profile")
            _remember_language(response, user.language)
            return response
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "has_totp": selectors.user_has_totp(user),
            "mfa_required": user.mfa_required,
            "notifications_form": _staff_notifications_form(user),
        },
    )


def _staff_notifications_form(user, data=None) -> StaffNotificationsForm | None:
    if not user.is_support_staff or not subscribable_topics(user):
        return None
    current = sorted(Subscription.objects.filter(user=user).values_list("topic", flat=True))
    return StaffNotificationsForm(data, user=user, initial={"topics": current})


@login_required
@require_POST
def staff_notifications(request):
    """A manager switches low satisfaction scores off (or on again) on their profile page."""
    form = _staff_notifications_form(request.user, request.POST)
    if form is None:
        return redirect("accounts:profile")
    if form.is_valid():
        services.notification_preferences_set(user=request.user, topics=set(form.cleaned_data["topics"]))
        messages.success(request, _("Your notification choices were saved."))
    else:
        messages.error(request, _("Choose from the listed topics."))
    return redirect("accounts:profile")


def apply_form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
