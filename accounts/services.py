"""Writes for accounts: every change to users, organisations and account requests."""

import contextlib
import hashlib
import logging
import secrets
import smtplib
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.core.internal import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    DEFAULT_TOPICS,
    DIGEST_TOPICS,
    AccountRequest,
    AccountRequestStatus,
    ApiToken,
    ApiTokenRevokedReason,
    Notification,
    NotificationTopic,
    Organisation,
    Role,
    Subscription,
    User,
    subscribable_topics,
)
from sla_portal.tasks_util import enqueue

if TYPE_CHECKING:
    from sla.models import ServiceLevel

logger = logging.getLogger(__name__)


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
    transaction.on_commit(notification_deliver_soon)


def _require_pending(request: AccountRequest) -> None:
    if request.status != AccountRequestStatus.PENDING:
        raise ValidationError(
            _("This request was already %(status)s.") % {"status": request.get_status_display().lower()}
        )


@transaction.atomic
def account_request_approve(
    *,
    account_request: AccountRequest,
    by: User,
    organisation: Organisation | None = None,
    new_organisation: str = "",
    service_level: "ServiceLevel | None" = None,
    contract_from: date | None = None,
    role: str = Role.CUSTOMER_USER,
) -> User:
    """Create the customer's account and e-mail them how to set a password and log in.

    The account joins ``organisation``; or, given a ``service_level``, a new organisation named
    ``new_organisation`` (else as the request says) with a contract on that level from
    ``contract_from`` (else today); or, given neither, the organisation of the request's name,
    made if there is none. A coordinator seat goes through ``organisation_coordinator_assign``
    (the level's maximum in the policy version in force); a refusal raises ValidationError and
    writes nothing at all."""
    if role not in (Role.CUSTOMER_USER, Role.COORDINATOR):
        raise ValidationError({"role": _("Choose customer user or coordinator.")})
    account_request = AccountRequest.objects.select_for_update().get(pk=account_request.pk)
    _require_pending(account_request)
    if User.objects.filter(email__iexact=account_request.email).exists():
        raise ValidationError(_("An account with this e-mail address already exists."))
    if organisation is None and service_level is not None:
        organisation = organisation_create_with_contract(
            name=new_organisation or account_request.organisation_name,
            service_level=service_level,
            valid_from=contract_from or timezone.localdate(),
        )
    elif organisation is None:
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
    if role == Role.COORDINATOR:
        organisation_coordinator_assign(user=user, by=by)
    account_request.status = AccountRequestStatus.APPROVED
    account_request.decided_by = by
    account_request.decided_at = timezone.now()
    account_request.user = user
    account_request.save()
    user_send_welcome(user=user)
    return user


@transaction.atomic
def organisation_coordinator_assign(*, user: User, by: User) -> User:
    """Make a customer user a coordinator, within the maximum of the policy version in force
    today (§1.2.2: 2 on Default, 4 on Extended; document 000: 1 and 3). The organisation row is
    locked so two managers cannot both add the last."""
    from sla import selectors as sla_selectors  # sla's models import accounts'

    if not by.is_manager:
        raise PermissionDenied(_("Only a support manager may assign coordinators."))
    if not user.is_customer:
        raise ValidationError(_("Only customer users can be coordinators."))
    organisation = Organisation.objects.select_for_update().get(pk=user.organisation_id)
    contract = sla_selectors.contract_in_force(organisation_id=organisation.pk, on=timezone.localdate())
    if contract is None:
        raise ValidationError(
            _("%(organisation)s has no contract in force.") % {"organisation": organisation}
        )
    if user.role == Role.COORDINATOR:
        return user
    level = contract.service_level
    terms = sla_selectors.level_terms(service_level=level, on=timezone.localdate())
    current = organisation.users.filter(role=Role.COORDINATOR, is_active=True).count()
    if terms is None or current >= terms.max_coordinators:
        raise ValidationError(
            _(
                "%(organisation)s already has %(count)d coordinators, the maximum on the %(level)s "
                "level. Revoke one first."
            )
            % {"organisation": organisation, "count": current, "level": level.name}
        )
    user.role = Role.COORDINATOR
    user.save(update_fields=["role"])
    return user


@transaction.atomic
def organisation_coordinator_revoke(*, user: User, by: User) -> User:
    if not by.is_manager:
        raise PermissionDenied(_("Only a support manager may revoke coordinators."))
    if user.role == Role.COORDINATOR:
        user.role = Role.CUSTOMER_USER
        user.save(update_fields=["role"])
    return user


@transaction.atomic
def organisation_create_with_contract(
    *, name: str, service_level: "ServiceLevel", valid_from: date
) -> Organisation:
    """A new customer organisation and its contract on ``service_level`` from ``valid_from``.
    A name already taken (in any case) is a ValidationError on ``organisation_name``."""
    from sla.models import Contract  # sla's models import accounts'

    name = name.strip()
    if not name:
        raise ValidationError({"organisation_name": _("Give the new organisation a name.")})
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ValidationError(
            {
                "organisation_name": _("An organisation named %(name)s already exists: choose it instead.")
                % {"name": name}
            }
        )
    organisation = Organisation(name=name)
    organisation.full_clean()
    organisation.save()
    contract = Contract(organisation=organisation, service_level=service_level, valid_from=valid_from)
    contract.full_clean()
    contract.save()
    return organisation


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


def user_send_welcome(*, user: User) -> Notification:
    """The e-mail that tells an approved customer how to log in (in both our languages),
    written to the outbox: a mail server that is down delays it, never loses it. Its password
    link stays valid for PASSWORD_RESET_TIMEOUT (3 days), longer than delivery retries (24 h)."""
    context = {
        "user": user,
        "password_url": user_password_set_url(user=user),
        "login_url": settings.SITE_URL.rstrip("/") + reverse("account_login"),
    }
    bodies = []
    for language in ("nl", "en"):
        with translation.override(language):
            bodies.append(render_to_string("accounts/email/welcome.txt", context))
    notification = Notification.objects.create(
        recipient=user,
        topic=NotificationTopic.ACCOUNT,
        subject="Your SLA Portal account / Uw SLA Portal-account",
        body="\n\n----\n\n".join(bodies),
    )
    transaction.on_commit(notification_deliver_soon)
    return notification


def site_url(path: str = "") -> str:
    """An absolute address on this site, for e-mails: ``SITE_URL`` (see settings) + ``path``."""
    return settings.SITE_URL.rstrip("/") + path


def notification_defaults_apply(*, user: User) -> None:
    """Subscribe a user to their role's default topics (``DEFAULT_TOPICS``); idempotent."""
    topics = DEFAULT_TOPICS.get(user.role, ())
    Subscription.objects.bulk_create(
        [Subscription(user=user, topic=topic) for topic in topics], ignore_conflicts=True
    )


def notifications_queue(rows: list[Notification], *, deliver: bool = True) -> list[Notification]:
    """Write notifications to the outbox in the caller's transaction and (``deliver``) ask for
    delivery after commit; the SLA sweep asks once after all its batches instead. A recipient
    who chose the daily digest has their ticket and SLA updates held for it
    (``notification_digests_send``) rather than sent one by one."""
    for row in rows:
        if row.topic in DIGEST_TOPICS and row.recipient.notification_digest:
            row.held_for_digest, row.next_attempt_at = True, None
    Notification.objects.bulk_create(rows)
    if deliver and any(not row.held_for_digest for row in rows):
        transaction.on_commit(notification_deliver_soon)
    return rows


# Digests go out from this hour (local time) on: the morning's mail, before the desk opens.
NOTIFICATION_DIGEST_HOUR = 7


def notification_digests_send(*, now=None) -> int:
    """Beat, hourly; from NOTIFICATION_DIGEST_HOUR on, each user with held updates gets one
    digest (an outbox row delivered like any other) and the held rows are marked sent. At
    most one digest per user and local day, decided under a lock on the user's row, so a
    second run the same day (or two at once) sends nothing more: what arrives later waits for
    tomorrow's. Returns the digests made."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < NOTIFICATION_DIGEST_HOUR:
        return 0
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    user_ids = list(
        Notification.objects.filter(held_for_digest=True).values_list("recipient_id", flat=True).distinct()
    )
    made = 0
    for user_id in user_ids:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=user_id).first()
            digests_today = Notification.objects.filter(
                recipient_id=user_id, topic=NotificationTopic.DIGEST, created_at__gte=day_start
            )
            if user is None or digests_today.exists():
                continue
            held = list(
                Notification.objects.select_for_update()
                .filter(recipient=user, held_for_digest=True)
                .order_by("created_at", "pk")
            )
            if not held:
                continue
            with translation.override(user.language):
                subject = _("Your daily digest: %(count)d update(s)") % {"count": len(held)}
            parts = [f"{row.subject}\n{row.body}" + (f"\n{row.link}" if row.link else "") for row in held]
            link = site_url(reverse("portal:home" if user.is_customer else "desk:queue"))
            Notification.objects.create(
                recipient=user,
                topic=NotificationTopic.DIGEST,
                subject=subject[:200],
                body="\n\n----\n\n".join(parts),
                link=link,
            )
            Notification.objects.filter(pk__in=[row.pk for row in held]).update(
                held_for_digest=False, sent_at=now
            )
            made += 1
    if made:
        notification_deliver_soon()
    return made


def notification_deliver_soon() -> None:
    """Ask a worker to flush the outbox now. Beat flushes it every minute anyway, so a broker
    that is down here delays the mail by a minute and fails nothing that was saved."""
    from accounts.tasks import notification_deliver_pending_task

    enqueue(notification_deliver_pending_task)


# --- delivering the outbox ------------------------------------------------------------------
#
# A run claims a batch in one short transaction (a lease: ``next_attempt_at`` moves forward,
# ``claimed_at`` is set), sends outside any transaction over one SMTP connection, and records
# each outcome in its own write. No row lock is held while the mail server is talked to, a run
# killed halfway leaves its claims to come due again, and a recorded send is final.

# Rows claimed at once: at EMAIL_TIMEOUT (10 s) per SMTP operation even a slow server gets
# through a batch well within the lease.
NOTIFICATION_BATCH = 50
# A live run never outlives its claim: the task is killed at its hard time limit (300 s) first.
NOTIFICATION_LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
# A run stops claiming after this long, inside the task's soft time limit (240 s).
NOTIFICATION_TIME_BUDGET = 120.0
# Back-off after a failed attempt: 1, 2, 4, ... minutes, at most 4 hours apart; the 14th
# attempt comes 24.25 h after the first, and a 14th failure gives up.
NOTIFICATION_RETRY_FIRST = timedelta(minutes=1)
NOTIFICATION_RETRY_MAX = timedelta(hours=4)
NOTIFICATION_MAX_ATTEMPTS = 14
# The mail server is down (refused, hung, 421): nothing is attempted for this long, and no
# row's attempts are spent on it: the outage says nothing about the mails. Just under the
# beat's minute, so each beat's run tries the server once.
NOTIFICATION_OUTAGE_PAUSE = timedelta(seconds=55)


class MailServerDown(Exception):
    """The mail server cannot take mail now: refused, unreachable, silent or closing (421)."""


def notification_retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (exponential back-off)."""
    return min(NOTIFICATION_RETRY_FIRST * 2 ** (attempts - 1), NOTIFICATION_RETRY_MAX)


def _server_down(exc: BaseException) -> bool:
    """A failure of the connection rather than of the message."""
    if isinstance(
        exc,
        smtplib.SMTPConnectError
        | smtplib.SMTPServerDisconnected
        | smtplib.SMTPHeloError
        | smtplib.SMTPAuthenticationError
        | smtplib.SMTPNotSupportedError,
    ):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing transmission channel"
    if isinstance(exc, smtplib.SMTPException):
        return False  # recipients refused and the like: this message's problem
    return isinstance(exc, OSError)  # refused, reset, unreachable, timed out


def _permanent(exc: BaseException) -> bool:
    """The server refused this message for good (5xx): retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "sla-portal.local"


def _message(notification: Notification, connection) -> EmailMultiAlternatives:
    """A text part and an HTML part of the same content (the HTML escaped by the template),
    each with the absolute link to what the mail is about."""
    # A Message-ID of the row's own: a mail sent again after its worker died unrecorded
    # (the one case that sends twice) is recognisable as the same mail.
    stamp = int(notification.created_at.timestamp())
    message_id = f"<notification-{notification.pk}-{stamp}@{_mail_domain()}>"
    text = notification.body
    if notification.link and notification.link not in text:
        text = f"{text}\n\n{notification.link}"
    with translation.override(notification.recipient.language):
        html = render_to_string(
            "accounts/email/notification.html",
            {
                "subject": notification.subject,
                "body": notification.body,
                "link": notification.link,
                "language": notification.recipient.language,
            },
        )
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        headers={"Message-ID": message_id},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim(*, now, batch_size: int) -> list[Notification]:
    """Due rows, marked as this run's in one short transaction. A row still marked as claimed
    was left by a run that died: that counts as its attempt, and says so."""
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_attempt_at__lte=now)
            .select_related("recipient")
            .order_by("next_attempt_at")[:batch_size]
        )
        claimed, given_up = [], []
        for notification in rows:
            if notification.claimed_at is not None:
                notification.attempts += 1
                notification.last_error = "the delivery was interrupted (worker stopped or timed out)"
            if notification.attempts >= NOTIFICATION_MAX_ATTEMPTS:
                notification.next_attempt_at, notification.claimed_at = None, None
                given_up.append(notification)
            else:
                notification.next_attempt_at, notification.claimed_at = now + NOTIFICATION_LEASE, now
                claimed.append(notification)
        Notification.objects.bulk_update(rows, ["next_attempt_at", "claimed_at", "attempts", "last_error"])
    for notification in given_up:
        logger.error("notification %s given up after %s attempts", notification.pk, notification.attempts)
    return claimed


def _record_sent(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, claimed_at=notification.claimed_at).update(
        sent_at=timezone.now(),
        next_attempt_at=None,
        claimed_at=None,
        attempts=F("attempts") + 1,
        last_error="",
    )


def _record_failure(notification: Notification, exc: Exception) -> None:
    attempts = notification.attempts + 1
    give_up = _permanent(exc) or attempts >= NOTIFICATION_MAX_ATTEMPTS
    next_attempt_at = None if give_up else timezone.now() + notification_retry_delay(attempts)
    Notification.objects.filter(pk=notification.pk, claimed_at=notification.claimed_at).update(
        next_attempt_at=next_attempt_at, claimed_at=None, attempts=attempts, last_error=str(exc)[:500]
    )
    if give_up:
        logger.error("notification %s given up after %s attempts: %s", notification.pk, attempts, exc)


def _release(notifications: list[Notification], *, until, error: str = "") -> None:
    """Give claimed rows back unattempted, due at ``until``."""
    if notifications:
        fields = {"next_attempt_at": until, "claimed_at": None}
        if error:
            fields["last_error"] = error[:500]
        pks = [notification.pk for notification in notifications]
        Notification.objects.filter(pk__in=pks, claimed_at__isnull=False).update(**fields)


def _pause_for_outage(*, claimed: list[Notification], exc: BaseException) -> None:
    """The mail server is down: this batch and everything else due waits a while, with no
    attempt spent, so the runs that beat and every write start in the meantime return at once
    instead of each waiting for the server's timeout."""
    until = timezone.now() + NOTIFICATION_OUTAGE_PAUSE
    error = f"mail server unavailable: {exc!r}"[:500]
    _release(claimed, until=until, error=error)
    Notification.objects.filter(next_attempt_at__lte=until, claimed_at__isnull=True).update(
        next_attempt_at=until, last_error=error
    )
    logger.warning("mail server unavailable, outbox paused until %s: %r", until, exc)


def notification_deliver_pending(*, batch_size: int = NOTIFICATION_BATCH) -> int:
    """Send the outbox's due notifications; the number sent. Two runs claim disjoint rows."""
    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < NOTIFICATION_TIME_BUDGET:
        claimed = _claim(now=timezone.now(), batch_size=batch_size)
        if not claimed:
            break
        try:
            sent += _send_claimed(claimed)
        except MailServerDown:
            break
    return sent


def _send_claimed(claimed: list[Notification]) -> int:
    sent, pending = 0, list(claimed)
    connection = get_connection(fail_silently=False)
    try:
        try:
            connection.open()
        except Exception as exc:
            if not _server_down(exc):
                raise
            _pause_for_outage(claimed=pending, exc=exc)
            raise MailServerDown from exc
        while pending:
            notification = pending[0]
            try:
                _message(notification, connection).send()
            except Exception as exc:
                if _server_down(exc):
                    _pause_for_outage(claimed=pending, exc=exc)
                    raise MailServerDown from exc
                _record_failure(notification, exc)
            else:
                _record_sent(notification)
                sent += 1
            pending.pop(0)
    finally:
        # Killed softly (the time limit) or failing unexpectedly: what was not attempted is due
        # again at once rather than after the lease.
        if pending:
            _release(pending, until=timezone.now())
        with contextlib.suppress(Exception):
            connection.close()
    return sent


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


@transaction.atomic
def profile_update(*, user: User, full_name: str, language: str) -> User:
    """The user's own name and preferred language (pages after login and their mails)."""
    full_name = full_name.strip()
    if not full_name:
        raise ValidationError({"full_name": _("Enter your name.")})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    User.objects.filter(pk=user.pk).update(full_name=full_name[:200], language=language)
    user.full_name, user.language = full_name[:200], language
    return user


@transaction.atomic
def notification_preferences_set(*, user: User, topics: set[str], digest: bool | None = None) -> set[str]:
    """Exactly these topics, no others: rows added and removed in one transaction. A topic
    left out is switched off for good (the defaults are only given to a new user). ``digest``
    (when given) chooses the daily digest instead of a mail per update."""
    allowed = set(subscribable_topics(user))
    if not set(topics) <= allowed:
        raise ValidationError({"topics": [_("Unknown topic.")]})
    Subscription.objects.filter(user=user).exclude(topic__in=topics).delete()
    Subscription.objects.bulk_create(
        [Subscription(user=user, topic=topic) for topic in topics], ignore_conflicts=True
    )
    if digest is not None and digest != user.notification_digest:
        user.notification_digest = digest
        user.save(update_fields=["notification_digest"])
    return set(topics)
