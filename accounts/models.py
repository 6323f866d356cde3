"""Users, the customer organisations they belong to, and requests for an account."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet


class Role(models.TextChoices):
    CUSTOMER_USER = "customer_user", _("Customer user")
    COORDINATOR = "coordinator", _("Customer coordinator")
    AGENT = "agent", _("Support agent")
    CONSULTANT = "consultant", _("Consultant")
    MANAGER = "manager", _("Support manager")
    ADMIN = "admin", _("Administrator")


CUSTOMER_ROLES = (Role.CUSTOMER_USER, Role.COORDINATOR)
STAFF_ROLES = (Role.AGENT, Role.CONSULTANT, Role.MANAGER, Role.ADMIN)


class OrganisationQuerySet(TenantQuerySet):
    tenant_path = "pk"


class Organisation(models.Model):
    """A customer: the tenant. Customers see nothing of any other organisation."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    mfa_required = models.BooleanField(
        _("two-factor authentication required"),
        default=False,
        help_text=_("Makes a second factor mandatory for every user of this organisation."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A personal account. Customers belong to exactly one organisation; staff to none."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=settings.LANGUAGES,
        default="nl",
        help_text=_("The language of the e-mails we send you."),
    )
    notification_digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("One e-mail a day with all ticket updates instead of one e-mail per update."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CUSTOMER_USER)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="customer_has_organisation_staff_has_none",
                condition=(
                    Q(role__in=list(CUSTOMER_ROLES), organisation__isnull=False)
                    | Q(role__in=list(STAFF_ROLES), organisation__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_customer(self) -> bool:
        return self.role in CUSTOMER_ROLES

    @property
    def is_support_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)

    @property
    def mfa_required(self) -> bool:
        """Staff always need a second factor; customers when their organisation says so."""
        if self.is_support_staff:
            return True
        return bool(self.organisation and self.organisation.mfa_required)


class AccountRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class AccountRequest(models.Model):
    """SPEC §5 step 2: a first-time customer asks for an account; a support manager decides."""

    email = models.EmailField(_("e-mail address"))
    full_name = models.CharField(_("full name"), max_length=200)
    organisation_name = models.CharField(_("organisation"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        max_length=10, choices=AccountRequestStatus.choices, default=AccountRequestStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="decided_account_requests"
    )
    decision_note = models.TextField(blank=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="account_request"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("account request")
        verbose_name_plural = _("account requests")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(status="pending"), name="one_pending_request_per_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.organisation_name})"


class NotificationTopic(models.TextChoices):
    """What a notification is about; the last four are the SPEC §11 topics a contact chooses."""

    ACCOUNT = "account", _("Account")
    TICKET_UPDATE = "ticket_update", _("Ticket updates")
    SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
    SLA_BREACH = "sla_breach", _("SLA breached")
    DATA_LEAK = "data_leak", _("Data leaks")
    DISRUPTION = "disruption", _("Disruptions")
    RELEASE = "release", _("Releases")
    NEWS = "news", _("News")
    MAINTENANCE = "maintenance", _("Planned maintenance")
    SECURITY = "security", _("Vulnerability reports")
    DIGEST = "digest", _("Daily digest")
    LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction scores")
    KNOWLEDGE = "knowledge", _("Knowledge base feedback")


#: The topics a contact may choose in their notification preferences.
SUBSCRIBABLE_TOPICS = (
    NotificationTopic.TICKET_UPDATE,
    NotificationTopic.DATA_LEAK,
    NotificationTopic.DISRUPTION,
    NotificationTopic.RELEASE,
    NotificationTopic.NEWS,
    NotificationTopic.MAINTENANCE,
    NotificationTopic.SLA_AT_RISK,
)

#: What a new customer receives until they choose otherwise (issue 14: a customer must hear
#: that support asked a question while the clock waits on them). Staff are notified by the
#: RACI table (assignee, consultant, managers), not by subscriptions - except low satisfaction
#: scores, which only the managers receive and which a manager may switch off.
DEFAULT_TOPICS = {
    Role.CUSTOMER_USER: (NotificationTopic.TICKET_UPDATE,),
    Role.COORDINATOR: (NotificationTopic.TICKET_UPDATE, NotificationTopic.SLA_AT_RISK),
    # A customer's score of 1 or 2 reaches the support managers (issue 17) unless they opt out.
    Role.MANAGER: (NotificationTopic.LOW_SATISFACTION,),
}

#: Topics held for the daily digest of a user who chose one; the rest (account mails,
#: announcements of data leaks and disruptions) go out at once.
DIGEST_TOPICS = (NotificationTopic.TICKET_UPDATE, NotificationTopic.SLA_AT_RISK, NotificationTopic.SLA_BREACH)


#: What staff may switch: the RACI table decides the rest of what they receive.
STAFF_TOPICS = {Role.MANAGER: (NotificationTopic.LOW_SATISFACTION,)}


def subscribable_topics(user: "User") -> tuple[str, ...]:
    """The topics this user may choose: SLA at risk only for coordinators, who receive it;
    staff only their own (a manager's low satisfaction scores)."""
    if user.is_support_staff:
        return STAFF_TOPICS.get(user.role, ())
    if user.role == Role.COORDINATOR:
        return SUBSCRIBABLE_TOPICS
    return tuple(topic for topic in SUBSCRIBABLE_TOPICS if topic != NotificationTopic.SLA_AT_RISK)


class Notification(models.Model):
    """The outbox: written in the same transaction as what it reports, delivered by Celery
    (``accounts.services.notification_deliver_pending``), so nothing is lost when Redis, the
    worker or the mail server is down.

    ``next_attempt_at`` says when a row is due: now when written, later after a failure
    (exponential back-off over more than a day), ``None`` once sent or given up. A worker
    claims due rows by moving it forward by a lease and setting ``claimed_at``; it sends
    outside any transaction and records each outcome at once, so a claim whose worker died
    comes due again when its lease ends, and a mail recorded as sent is never sent again."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    topic = models.CharField(max_length=20, choices=NotificationTopic.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Absolute address of what the mail is about (the ticket), written when the row is.
    link = models.CharField(max_length=500, blank=True)
    # Waiting for the recipient's daily digest (``next_attempt_at`` is None meanwhile).
    held_for_digest = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)  # set while a worker sends it
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_unsent", condition=Q(sent_at__isnull=True)
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["recipient"], name="notification_held", condition=Q(held_for_digest=True)),
        ]

    def __str__(self) -> str:
        return f"{self.topic} to {self.recipient_id}: {self.subject}"


class Subscription(models.Model):
    """A contact's choice to receive one topic (SPEC §11: data leaks, disruptions, releases,
    news; ticket updates; SLA at risk for coordinators). No row: not subscribed. A customer
    starts with ``DEFAULT_TOPICS`` (``accounts.signals``), so a missing row of those is a
    choice the user made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="subscriptions")
    topic = models.CharField(max_length=20, choices=NotificationTopic.choices)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="subscription_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.topic}"


class ApiTokenRevokedReason(models.TextChoices):
    """Why a token stopped working, shown on the token page."""

    BY_USER = "user", _("revoked by you")
    PASSWORD = "password", _("revoked: your password was changed or reset")
    MFA_REQUIRED = "mfa", _("revoked: your organisation now requires two-factor authentication")


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the key is shown once at creation.

    A token outlives no change of the credentials it was created under: a password change or
    reset, or the organisation starting to require a second factor, revokes it
    (``accounts.services.api_tokens_revoke_all``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, editable=False)  # shown in lists to tell tokens apart
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=10, choices=ApiTokenRevokedReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("Ticket status changed")
    SLA_AT_RISK = "sla.at_risk", _("SLA at risk")
    SLA_BREACHED = "sla.breached", _("SLA breached")


class Webhook(models.Model):
    """An HTTPS endpoint a support manager registered for some events. Deliveries are signed
    with HMAC-SHA256 over `<timestamp>.<body>` using ``secret``."""

    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """The outbox and the delivery log in one: a row per event and endpoint, retried with
    back-off until delivered or given up."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # None: delivered or given up
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(next_attempt_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.webhook_id}"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a POST that creates something: a retry with the same
    key gets the first response instead of a second ticket."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=100)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return self.key


class OrganisationSso(models.Model):
    """An organisation's single sign-on (SPEC §9 "SSO as an option"): its users may log in
    through the organisation's OpenID Connect provider, held as allauth's ``SocialApp`` (provider
    ``openid_connect``, ``provider_id`` ``org-<pk>``). Only e-mail addresses of the domains below
    are signed in by it, and only into this organisation (``accounts.sso``)."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="sso"
    )
    app = models.OneToOneField("socialaccount.SocialApp", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("single sign-on")
        verbose_name_plural = _("single sign-on")

    def __str__(self) -> str:
        return str(self.organisation)


class SsoDomain(models.Model):
    """An e-mail domain whose users an organisation's SSO signs in. Unique across all
    organisations: one domain can never lead into two tenants."""

    sso = models.ForeignKey(OrganisationSso, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("e-mail domain"), max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("SSO e-mail domain")

    def __str__(self) -> str:
        return self.domain
