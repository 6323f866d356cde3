"""Writes for accounts: every change to users, organisations and account requests."""

import hashlib
import secrets

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.core.internal import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    AccountRequest,
    AccountRequestStatus,
    ApiToken,
    ApiTokenRevokedReason,
    Notification,
    NotificationTopic,
    Organisation,
    Role,
    User,
)


def account_request_create(
    *, email: str, full_name: str, organisation_name: str, message: str = ""
) -> AccountRequest | None:
    """A visitor asks for an account; it stays pending until a support manager decides.

    The visitor is told the same whether or not the address has an account or a pending
    request (the form must not tell who our customers are): for an existing account its owner
    is e-mailed instead (through the outbox, so the answer takes no longer either), and a second
    request for a pending address adds nothing. Returns the new request, or None."""
    email = email.strip().lower()
    request = AccountRequest(
        email=email, full_name=full_name.strip(), organisation_name=organisation_name.strip(), message=message
    )
    request.full_clean(exclude=["decided_by", "user"], validate_constraints=False)
    owner = User.objects.filter(email__iexact=email).first()
    if owner is not None:
        _account_request_tell_owner(owner=owner)
        return None
    if AccountRequest.objects.filter(email=email, status=AccountRequestStatus.PENDING).exists():
        return None
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # the partial unique index: a concurrent request for the same address won
        return None
    return request


@transaction.atomic
def _account_request_tell_owner(*, owner: User) -> None:
    from accounts.tasks import notification_deliver_pending_task  # the task imports this module

    with translation.override(owner.language):
        Notification.objects.create(
            recipient=owner,
            topic=NotificationTopic.ACCOUNT,
            subject=_("Someone asked for an SLA Portal account with your e-mail address"),
            body=_(
                "Someone (perhaps you) asked for an SLA Portal account with this e-mail address, "
                "which already has one. Log in at %(login_url)s; if you forgot your password, "
                "choose 'Forgot your password?' there. If it was not you, you need not do anything."
            )
            % {"login_url": settings.SITE_URL.rstrip("/") + reverse("account_login")},
        )
    transaction.on_commit(lambda: notification_deliver_pending_task.delay())


def _require_pending(request: AccountRequest) -> None:
    if request.status != AccountRequestStatus.PENDING:
        raise ValidationError(
            _("This request was already %(status)s.") % {"status": request.get_status_display().lower()}
        )


@transaction.atomic
def account_request_approve(
    *, account_request: AccountRequest, by: User, organisation: Organisation | None = None
) -> User:
    """Create the customer's account (in an existing or a new organisation) and e-mail them
    how to set a password and log in."""
    account_request = AccountRequest.objects.select_for_update().get(pk=account_request.pk)
    _require_pending(account_request)
    if User.objects.filter(email__iexact=account_request.email).exists():
        raise ValidationError(_("An account with this e-mail address already exists."))
    if organisation is None:
        organisation, _created = Organisation.objects.get_or_create(
            name__iexact=account_request.organisation_name,
            defaults={"name": account_request.organisation_name},
        )
    user = User.objects.create_user(
        account_request.email,
        None,
        full_name=account_request.full_name,
        role=Role.CUSTOMER_USER,
        organisation=organisation,
    )
    account_request.status = AccountRequestStatus.APPROVED
    account_request.decided_by = by
    account_request.decided_at = timezone.now()
    account_request.user = user
    account_request.save()
    transaction.on_commit(lambda: user_send_welcome(user=user))
    return user


@transaction.atomic
def account_request_reject(*, account_request: AccountRequest, by: User, note: str = "") -> None:
    account_request = AccountRequest.objects.select_for_update().get(pk=account_request.pk)
    _require_pending(account_request)
    account_request.status = AccountRequestStatus.REJECTED
    account_request.decided_by = by
    account_request.decided_at = timezone.now()
    account_request.decision_note = note
    account_request.save()


def user_password_set_url(*, user: User) -> str:
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return settings.SITE_URL.rstrip("/") + path


def user_send_welcome(*, user: User) -> None:
    """The e-mail that tells an approved customer how to log in (in both our languages)."""
    context = {
        "user": user,
        "password_url": user_password_set_url(user=user),
        "login_url": settings.SITE_URL.rstrip("/") + reverse("account_login"),
    }
    bodies = []
    for language in ("nl", "en"):
        with translation.override(language):
            bodies.append(render_to_string("accounts/email/welcome.txt", context))
    send_mail(
        subject="Your SLA Portal account / Uw SLA Portal-account",
        message="\n\n----\n\n".join(bodies),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


# Delivery works through the outbox in batches small enough that one SMTP hiccup costs
# little; the beat schedule and every write that adds notifications trigger it.
NOTIFICATION_BATCH = 200
NOTIFICATION_MAX_ATTEMPTS = 5


def notification_deliver_pending(*, batch_size: int = NOTIFICATION_BATCH) -> int:
    """Send unsent notifications. Rows are locked while sent (SKIP LOCKED), so two workers
    never send the same one; a row is marked sent in the transaction that sent it."""
    sent, after_pk = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, attempts__lt=NOTIFICATION_MAX_ATTEMPTS, pk__gt=after_pk)
                .select_related("recipient")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return sent
            after_pk = batch[-1].pk  # one attempt per row and run: failures wait for the next run
            for notification in batch:
                try:
                    send_mail(
                        subject=notification.subject,
                        message=notification.body,
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        recipient_list=[notification.recipient.email],
                    )
                except Exception as exc:
                    notification.attempts += 1
                    notification.last_error = str(exc)[:500]
                else:
                    notification.attempts += 1
                    notification.sent_at = timezone.now()
                    sent += 1
            Notification.objects.bulk_update(batch, ["attempts", "last_error", "sent_at"])


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; returns the row and the key, which is never retrievable again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, so you know later what uses it.")})
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:8], key_hash=api_token_hash(key))
    return token, key


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=ApiTokenRevokedReason.BY_USER
    )
    if not updated:
        raise ValidationError(_("This token does not exist or was already revoked."))


def api_tokens_revoke_all(*, users, reason: ApiTokenRevokedReason) -> int:
    """Revoke every live token of these users (a user or a queryset of them); returns how many.

    Called when the credentials a token was created under change: a password change or reset
    (allauth's signals, ``accounts.signals``), and an organisation starting to require a second
    factor (``organisation_mfa_required_set``)."""
    owners = {"user": users} if isinstance(users, User) else {"user__in": users}
    return ApiToken.objects.filter(revoked_at__isnull=True, **owners).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


@transaction.atomic
def organisation_mfa_required_set(*, organisation: Organisation, required: bool) -> int:
    """Switch an organisation's second-factor requirement; returns how many API tokens it revoked.

    Switching it on revokes the tokens of *all* the organisation's users, not only of those
    without a second factor today: a token says nothing of how it was made, and one made before
    its owner set up TOTP never passed a second factor. Sessions need no such step: the
    middleware (``RequireSecondFactorMiddleware``) stops them at the next request until the
    user has TOTP; tokens never pass through it. Re-creating a token afterwards asks for the code.
    """
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    was_required = organisation.mfa_required
    organisation.mfa_required = required
    organisation.save(update_fields=["mfa_required"])
    if required and not was_required:
        return api_tokens_revoke_all(
            users=User.objects.filter(organisation=organisation), reason=ApiTokenRevokedReason.MFA_REQUIRED
        )
    return 0


class CredentialsRefused(Exception):
    """E-mail, password or second factor is wrong: one error for all, so that a guesser does
    not learn that the password was right."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "E-mail address, password or TOTP code is wrong. (An account that must use "
                "two-factor authentication needs to set it up in the portal first.)"
            )
        )


class TooManyLoginAttempts(Exception):
    def __init__(self) -> None:
        super().__init__(_("Too many failed login attempts for this account. Try again later."))


def user_authenticate_with_second_factor(*, request, email: str, password: str, otp_code: str = "") -> User:
    """Check a password and (where the account has or needs one) a TOTP code outside the login
    page, under the login page's limits: every attempt spends allauth's ``login_failed`` quota
    (per client address and per account, in the shared cache), and only a complete success,
    second factor included, gives it back, as the login page does. A code is also counted
    against the login page's second-factor limit for the user (``allauth.mfa``'s key).

    Raises ``TooManyLoginAttempts`` when the account (or address) is locked, whatever the
    password, and ``CredentialsRefused`` for every other failure alike."""
    adapter = get_account_adapter(request)
    credentials = {"email": email, "password": password}
    # Private in name only: the login form's key (site + lower-cased e-mail), used to share its count.
    usage = ratelimit.consume(
        request,
        app="allauth.account",
        action="login_failed",
        key=adapter._get_login_attempts_cache_key(request, **credentials),
    )
    if not usage:
        raise TooManyLoginAttempts
    user = authenticate(request, **credentials)
    AuthenticationBackend.unstash_authenticated_user()  # an inactive user's right password: no
    if user is None or not user.is_active:
        raise CredentialsRefused
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        if user.mfa_required:
            raise CredentialsRefused
    else:
        mfa_key = f"mfa-auth-user-{user.pk}"  # allauth.mfa.base.internal.flows.check_rate_limit
        if not ratelimit.consume(request, app="allauth.account", action="login_failed", key=mfa_key):
            raise CredentialsRefused  # not "locked": that would say the password was right
        if not TOTP(totp).validate_code(otp_code or ""):
            raise CredentialsRefused
        ratelimit.clear(request, app="allauth.account", action="login_failed", key=mfa_key)
    usage.rollback()
    return user
