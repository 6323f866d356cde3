"""Writes for accounts: every change to users, organisations and account requests."""

import contextlib
import hashlib
import logging
import secrets
import smtplib
import time
from datetime import timedelta

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    AccountRequest,
    AccountRequestStatus,
    ApiToken,
    Notification,
    NotificationTopic,
    Organisation,
    Role,
    User,
)

logger = logging.getLogger(__name__)


def account_request_create(
    *, email: str, full_name: str, organisation_name: str, message: str = ""
) -> AccountRequest:
    """A visitor asks for an account; it stays pending until a support manager decides."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {
                "email": _(
                    "An account with this e-mail address already exists. "
                    "Use 'forgot password' on the login page."
                )
            }
        )
    duplicate_message = _("A request for this e-mail address is already waiting for approval.")
    if AccountRequest.objects.filter(email=email, status=AccountRequestStatus.PENDING).exists():
        raise ValidationError({"email": duplicate_message})
    request = AccountRequest(
        email=email, full_name=full_name.strip(), organisation_name=organisation_name.strip(), message=message
    )
    request.full_clean(exclude=["decided_by", "user"], validate_constraints=False)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:  # the partial unique index: one pending request per address
        raise ValidationError({"email": duplicate_message}) from exc
    return request


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
    user_send_welcome(user=user)
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


def notification_deliver_soon() -> None:
    """Ask a worker to flush the outbox now. Beat flushes it every minute anyway, so a broker
    that is down here delays the mail by a minute and fails nothing that was saved."""
    from accounts.tasks import notification_deliver_pending_task

    try:
        notification_deliver_pending_task.delay()
    except Exception:  # the write is committed; delivery waits for the next beat
        logger.warning("could not enqueue notification delivery", exc_info=True)


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


def _message(notification: Notification, connection) -> EmailMessage:
    # A Message-ID of the row's own: a mail sent again after its worker died unrecorded
    # (the one case that sends twice) is recognisable as the same mail.
    stamp = int(notification.created_at.timestamp())
    message_id = f"<notification-{notification.pk}-{stamp}@{_mail_domain()}>"
    return EmailMessage(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        headers={"Message-ID": message_id},
        connection=connection,
    )


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
        revoked_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("This token does not exist or was already revoked."))
