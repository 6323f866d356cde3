"""Tickets, their conversation and history, and the data that drives the support process.

The SLA engine binds each ticket to the contract and policy in force at its registration and
keeps its clocks (``sla.models.Clock``). The process of SPEC §5 is data too: the product
catalogue (``Product``/``Module``) and the RACI table (``RaciRule``) are seeded by migrations
and editable by a support manager, so changing who may do what needs no code.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantQuerySet
from tickets.choices import (
    ACTIVE_STATUSES,
    BugStatus,
    ChangeType,
    Channel,
    Clarity,
    ConsultancyDecision,
    DecisionStatus,
    Hosting,
    Impact,
    MailDraftStatus,
    MessageKind,
    Nature,
    Priority,
    ProblemType,
    ProcessStep,
    RaciLetter,
    RaciRole,
    TicketKind,
    TicketStatus,
    Todo,
    Urgency,
)

# --- the catalogue and the RACI table ---------------------------------------------------


class Product(models.Model):
    """A product of SPEC §6. ``consultancy_for_functional``: functional problems on it are
    consultancy, not support (the Data Manager Platform)."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    consultancy_for_functional = models.BooleanField(_("functional problems are consultancy"), default=False)
    active = models.BooleanField(_("offered in the portal"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class Module(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="modules")
    code = models.SlugField(_("code"))
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["product", "position", "name"]
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="module_code_once")]

    def __str__(self) -> str:
        return f"{self.product.name} - {self.name}"


class RaciRule(models.Model):
    """One cell of SPEC §5's table: for a step, what a role is (R, A, C or I).

    R and A may perform the step, C may comment while the ticket is in it, C and I are
    notified when it is performed. No row: the role has no part in the step."""

    step = models.CharField(_("step"), max_length=30, choices=ProcessStep.choices)
    role = models.CharField(_("role"), max_length=20, choices=RaciRole.choices)
    letter = models.CharField(_("letter"), max_length=1, choices=RaciLetter.choices)

    class Meta:
        ordering = ["step", "role"]
        verbose_name = _("RACI rule")
        verbose_name_plural = _("RACI table")
        constraints = [models.UniqueConstraint(fields=["step", "role"], name="raci_once_per_cell")]

    def __str__(self) -> str:
        return f"{self.step} {self.role}: {self.letter}"


# --- tickets ----------------------------------------------------------------------------


class TicketQuerySet(TenantQuerySet):
    tenant_path = "organisation"

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


class Ticket(models.Model):
    """A call registered in the portal (SPEC §1: nothing else registers one; before that rule,
    Extended organisations' mail did, and those tickets keep channel "mail"). ``version`` goes up with every
    write through a service, which checks it, so a second concurrent edit gets a conflict
    instead of silently overwriting the first. ``due_at``/``at_risk_at`` copy the nearest
    running clock's instants so the desk queue sorts on one indexed column."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=TicketKind.choices)
    change_type = models.CharField(_("change type"), max_length=10, choices=ChangeType.choices, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
        verbose_name=_("product"),
    )
    module = models.ForeignKey(
        Module,
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
        verbose_name=_("module"),
    )
    hosting = models.CharField(_("hosted"), max_length=20, choices=Hosting.choices, default=Hosting.CLOUD)
    nature = models.CharField(_("nature"), max_length=12, choices=Nature.choices, default=Nature.TECHNICAL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    suggested_impact = models.PositiveSmallIntegerField(
        _("impact suggested by the customer"), choices=Impact.choices, null=True, blank=True
    )
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    priority_overridden = models.BooleanField(_("priority overridden"), default=False)
    priority_reason = models.CharField(_("reason for the priority"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=30, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    step = models.CharField(
        _("process step"), max_length=30, choices=ProcessStep.choices, default=ProcessStep.REGISTER_TICKET
    )
    clarity = models.CharField(_("classification"), max_length=10, choices=Clarity.choices, blank=True)
    problem_type = models.CharField(_("problem type"), max_length=20, choices=ProblemType.choices, blank=True)
    consultancy = models.CharField(
        _("consultancy"), max_length=10, choices=ConsultancyDecision.choices, blank=True
    )
    consultancy_hours = models.DecimalField(
        _("consultancy hours estimate"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultancy_tickets",
        verbose_name=_("consultant"),
    )
    consultancy_date = models.DateField(_("consultancy planned on"), null=True, blank=True)
    planned_for = models.DateField(_("fix planned with the customer for"), null=True, blank=True)
    todo = models.CharField(_("to-do"), max_length=20, choices=Todo.choices, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    close_reason = models.CharField(_("reason for closing"), max_length=500, blank=True)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registered_tickets",
        null=True,
        blank=True,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        null=True,
        blank=True,
        verbose_name=_("assignee"),
    )
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    # When the customer last wrote (a message or a reopen), set by the conversation service in
    # the same transaction: the desk marks tickets answered since their assignee last opened them.
    customer_replied_at = models.DateTimeField(_("customer last wrote at"), null=True, blank=True)
    # Bound at registration and never changed: the promise made when the ticket came in.
    contract = models.ForeignKey("sla.Contract", on_delete=models.PROTECT, related_name="tickets")
    policy_version = models.ForeignKey("sla.PolicyVersion", on_delete=models.PROTECT, related_name="tickets")
    service_level = models.ForeignKey("sla.ServiceLevel", on_delete=models.PROTECT, related_name="tickets")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["organisation", "-registered_at"]),
            # One organisation's ticket ids without reading the table: the managers'
            # dashboard goes from these to their clocks (managers.dashboard.next_deadlines).
            models.Index(
                fields=["organisation", "id"], include=["service_level"], name="ticket_organisation_ids"
            ),
            # The desk queue: active tickets by their nearest deadline (NULLS LAST is the
            # btree default, so ORDER BY due_at ASC NULLS LAST reads the index in order).
            models.Index(
                fields=["due_at", "registered_at"],
                name="ticket_queue",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                fields=["assignee", "due_at"],
                name="ticket_queue_assignee",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            # The dashboard roll-up's refresh (every minute) looks up the tickets changed since
            # its last run: without this, a sequential scan of every ticket (0.4 s at a million).
            models.Index(fields=["updated_at"], name="ticket_updated"),
            # The managers' dashboard counts clocks by these five columns of their tickets
            # (managers.dashboard): the active tickets' (a few percent) are read whole into a
            # hash, any other ticket is looked up in the covering index, both index-only (the
            # "now" counts and today's clocks: about 60 ms less at a million tickets).
            models.Index(
                fields=["id"],
                include=["priority", "service_level", "organisation", "kind", "assignee"],
                name="ticket_active_dims",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                fields=["id"],
                include=["priority", "service_level", "organisation", "kind", "assignee"],
                name="ticket_dims",
            ),
            # The desk's "customer replied" filter: only active tickets the customer wrote on.
            models.Index(
                fields=["customer_replied_at"],
                name="ticket_customer_replied",
                condition=Q(status__in=ACTIVE_STATUSES, customer_replied_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="ticket_change_type_only_on_changes", condition=Q(kind="change") | Q(change_type="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        """What customers quote, in mail subjects too: derived from the key, never stored."""
        return f"T-{self.pk:06d}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class MessageQuerySet(TenantQuerySet):
    tenant_path = "ticket__organisation"

    def visible_to(self, user):
        """Tenancy plus visibility: customers never see internal notes."""
        queryset = self.for_user(user)
        if getattr(user, "is_customer", False):
            queryset = queryset.exclude(kind=MessageKind.NOTE)
        return queryset


class Message(models.Model):
    """One entry of a ticket's conversation: a public reply or question of support, a
    customer's message, or an internal note (phone contacts are notes with channel phone)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("written at"))
    # The RFC 822 Message-ID of an inbound mail: reading a mailbox twice stores it once.
    mail_message_id = models.CharField(max_length=500, null=True, blank=True, unique=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.kind != MessageKind.NOTE


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Never the customer's name on disk: a random name keeps only the checked extension."""
    return f"attachments/{instance.ticket_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class AttachmentQuerySet(TenantQuerySet):
    tenant_path = "ticket__organisation"

    def visible_to(self, user):
        queryset = self.for_user(user)
        if getattr(user, "is_customer", False):
            queryset = queryset.exclude(message__kind=MessageKind.NOTE)
        return queryset


class Attachment(models.Model):
    """A file on a ticket, under MEDIA_ROOT (outside the web root), served only by a view that
    checks tenancy and visibility."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class MailDraftQuerySet(TenantQuerySet):
    tenant_path = "organisation"

    def pending(self):
        return self.filter(status=MailDraftStatus.PENDING)


class MailDraft(models.Model):
    """A new mail from a contact of an Extended organisation (SPEC §1, document 001 §1.2.2):
    mail is a support channel, not a registration. It waits here until one of the
    organisation's coordinators registers it in the portal, which starts the SLA clocks, or
    discards it. ``mail_message_id`` stores each inbound mail once; ``ticket`` is set once."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="mail_drafts",
        verbose_name=_("organisation"),
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mail_drafts", verbose_name=_("from")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    mail_message_id = models.CharField(max_length=500, null=True, blank=True, unique=True)
    # What the mail carried that could not be kept (a file type or size over the limits).
    problems = models.TextField(_("not taken over"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=MailDraftStatus.choices, default=MailDraftStatus.PENDING
    )
    ticket = models.OneToOneField(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mail_draft",
        verbose_name=_("ticket"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = MailDraftQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("mail draft")
        verbose_name_plural = _("mail drafts")
        indexes = [models.Index(fields=["organisation", "status", "-received_at"])]
        constraints = [
            models.CheckConstraint(
                name="mail_draft_registered_has_ticket",
                condition=~Q(status="registered") | Q(ticket__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_pending(self) -> bool:
        return self.status == MailDraftStatus.PENDING


def mail_draft_file_path(instance: "MailDraftFile", filename: str) -> str:
    return f"mail-drafts/{instance.draft_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class MailDraftFile(models.Model):
    """An attachment of a mail draft, checked against the ticket limits on arrival; it becomes
    a ticket attachment when the draft is registered."""

    draft = models.ForeignKey(MailDraft, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=mail_draft_file_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("mail draft attachment")
        verbose_name_plural = _("mail draft attachments")

    def __str__(self) -> str:
        return self.original_name


class TicketChange(models.Model):
    """The history: who changed which field of a ticket when, from what to what."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="changes")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    field = models.CharField(max_length=50)
    old = models.CharField(max_length=500, blank=True)
    new = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("ticket change")
        verbose_name_plural = _("ticket changes")
        indexes = [models.Index(fields=["ticket", "at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field}: {self.old} -> {self.new}"


class ReprioritisationRequest(models.Model):
    """SPEC §4: the customer may ask to re-prioritise; support decides, both are kept."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reprioritisations")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    current_priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    priority = models.PositiveSmallIntegerField(_("requested priority"), choices=Priority.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("re-prioritisation request")
        verbose_name_plural = _("re-prioritisation requests")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="one_pending_reprioritisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} -> P{self.priority} ({self.status})"


class BugReference(models.Model):
    """SPEC §5 step 6: the bug in the development system (its PBI) linked to the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="bugs")
    reference = models.CharField(_("reference"), max_length=100)
    url = models.URLField(_("link"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=BugStatus.choices, default=BugStatus.REGISTERED
    )
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["registered_at"]
        verbose_name = _("bug reference")
        verbose_name_plural = _("bug references")
        constraints = [models.UniqueConstraint(fields=["ticket", "reference"], name="bug_once_per_ticket")]

    def __str__(self) -> str:
        return self.reference


class ChangeApproval(models.Model):
    """A normal change waits for a support manager's decision before work starts."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="approvals")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("change approval")
        verbose_name_plural = _("change approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="one_pending_approval"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status}"


# --- consultancy (SPEC §7) ----------------------------------------------------------------


class HoursCardQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class HoursCard(models.Model):
    """A prepaid card of consultancy hours ("strippenkaart") of one organisation."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="hours_cards"
    )
    hours = models.DecimalField(_("hours bought"), max_digits=7, decimal_places=2)
    purchased_on = models.DateField(_("bought on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    objects = HoursCardQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "purchased_on", "pk"]
        verbose_name = _("hours card")
        verbose_name_plural = _("hours cards")
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="hours_card_positive")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.hours} h ({self.purchased_on})"


class HoursBooking(models.Model):
    """Consultancy hours delivered on a ticket, drawn from a card."""

    card = models.ForeignKey(HoursCard, on_delete=models.PROTECT, related_name="bookings")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="bookings")
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]
        verbose_name = _("hours booking")
        verbose_name_plural = _("hours bookings")
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="hours_booking_positive")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.hours} h on {self.on}"


class ConsultancyRequestQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class ConsultancyRequest(models.Model):
    """A coordinator asks for a consultant on a day, for some hours, for a purpose (SPEC §7)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="consultancy_requests"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    purpose = models.CharField(_("what for"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsultancyRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consultancy request")
        verbose_name_plural = _("consultancy requests")
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="consultancy_request_positive")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.hours} h on {self.on}"


class SavedView(models.Model):
    """A desk user's named set of queue filters (the query string)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=1000)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_once")]

    def __str__(self) -> str:
        return self.name


# --- customer satisfaction (issue 17) ---------------------------------------------------------


class RatingChannel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    MAIL = "mail", _("Link in a mail")


class SatisfactionRatingQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class SatisfactionRating(models.Model):
    """The customer's answer (1-5, an optional comment) to "how satisfied are you with how this
    ticket was handled?", asked once the resolution is confirmed or the ticket closed by
    itself. One per ticket: the unique key makes a second answer (a link used twice, two tabs)
    fail in the database, whoever wins the race.

    What the managers' page groups by is copied from the ticket when the rating is given (the
    agent assigned at resolution, level, product, organisation, the week, whether every clock
    with a target was met), so each of its figures is one indexed aggregate over this table
    rather than a join over tickets and clocks."""

    SCORES = (1, 2, 3, 4, 5)
    COMMENT_MAX = 1000

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="satisfaction")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.CharField(_("comment"), max_length=COMMENT_MAX, blank=True)
    # Nobody logged in for a mail-link rating: the ticket's requester is recorded as its author.
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("given through"), max_length=10, choices=RatingChannel.choices)
    created_at = models.DateTimeField(_("rated at"))
    week = models.DateField(_("week"))  # Monday (Amsterdam) of created_at
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service_level = models.ForeignKey("sla.ServiceLevel", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sla_met = models.BooleanField(_("SLA met"))

    objects = SatisfactionRatingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        indexes = [
            models.Index(fields=["week"], name="satisfaction_week"),
            models.Index(fields=["organisation", "created_at"], name="satisfaction_org_created"),
        ]
        constraints = [
            models.CheckConstraint(
                name="satisfaction_score_1_to_5", condition=Q(score__gte=1) & Q(score__lte=5)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


# --- the desk workspace ---------------------------------------------------------------------


class TicketRead(models.Model):
    """When a member of staff last opened a ticket's desk page (upserted by that page): the
    queue marks tickets the customer wrote on since their assignee read them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket read")
        verbose_name_plural = _("tickets read")
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_read_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.ticket_id} at {self.read_at}"


class Macro(models.Model):
    """A reusable reply ("canned reply") in Dutch and English with placeholders such as
    ``{customer_name}``; personal to its owner or shared with every member of staff."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="macros")
    shared = models.BooleanField(_("shared with all support staff"), default=False)
    title = models.CharField(_("title"), max_length=100)
    body_nl = models.TextField(_("text in Dutch"), max_length=5000)
    body_en = models.TextField(_("text in English"), max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.title
