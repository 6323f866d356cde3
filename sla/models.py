"""Service levels, calendars, policy versions, targets, contracts and the clocks on tickets.

Every SLA figure is a row here, seeded from SPEC §1-§4 by data migrations and editable by a
support manager; nothing in code knows that "High on Extended" means 2 hours.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationTopic
from accounts.tenancy import TenantQuerySet
from sla.choices import Impact, Priority, TicketKind, Urgency


class Weekday(models.IntegerChoices):
    """Python's numbering (``date.weekday()``), which sla/calendar.py uses too."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class LiberationDay(models.TextChoices):
    NEVER = "never", _("Never")
    LUSTRUM = "lustrum", _("Every fifth year (2025, 2030, ...)")
    EVERY_YEAR = "every_year", _("Every year")


class Calendar(models.Model):
    """Business hours in a timezone: weekly opening hours minus closed dates.

    ``version`` goes up with every change to its hours, holidays or closures, so the
    process-level cache of built calendars (``sla.selectors.business_calendar``) knows
    when to rebuild."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("timezone"), max_length=64, default="Europe/Amsterdam")
    closed_on_good_friday = models.BooleanField(_("closed on Good Friday"), default=True)
    liberation_day = models.CharField(
        _("closed on Liberation Day"),
        max_length=12,
        choices=LiberationDay.choices,
        default=LiberationDay.LUSTRUM,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    # The version whose open clocks were last recomputed: behind ``version`` while a recompute
    # is queued, or when its enqueue failed (sla.tasks.sla_catch_up_task then does it).
    recomputed_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=Weekday.choices,
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=models.F("closes")), name="opening_hours_open_before_close"
            ),
            models.UniqueConstraint(
                fields=["calendar", "weekday", "opens"], name="opening_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class HolidayKind(models.TextChoices):
    GOOD_FRIDAY = "good_friday", _("Good Friday")
    LIBERATION_DAY = "liberation_day", _("Liberation Day")
    OTHER = "other", _("Public holiday")


class Holiday(models.Model):
    """A Dutch public holiday, seeded from the ``holidays`` library; a manager may switch one
    off or add one. Good Friday and Liberation Day follow each calendar's own choice."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(max_length=20, choices=HolidayKind.choices, default=HolidayKind.OTHER)
    active = models.BooleanField(_("closed on this day"), default=True)
    from_library = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ClosureDay(models.Model):
    """An extra day one calendar is closed (a company day off, a move)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closure_days")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="closure_day_once")]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class ServiceLevel(models.Model):
    """A level a contract is on (SPEC §1): its name and business-hours calendar. What it
    promises besides the targets (coordinators, channels, reports, ...) belongs to each policy
    version (``ServiceLevelTerms``), like the targets. Custom levels are rows too."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="service_levels")
    at_risk_percent = models.PositiveSmallIntegerField(
        _("at risk from (% of the target)"),
        default=75,
        help_text=_("A running clock is 'at risk' once it has used this share of its target."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [
            models.CheckConstraint(
                condition=Q(at_risk_percent__gt=0, at_risk_percent__lt=100),
                name="service_level_at_risk_between_0_and_100",
            )
        ]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self) -> str:
        """The name in the reader's language: the seeded levels' names are translated
        ("Default" is "Standaard" in Dutch); a custom level shows the name it was given."""
        return SEEDED_LEVEL_NAMES.get(self.name, self.name)


# The names of the levels seeded from the SLA documents (sla/seed.py), for translation.
SEEDED_LEVEL_NAMES = {"Default": _("Default"), "Extended": _("Extended")}


class PolicyVersion(models.Model):
    """One version of the SLA document; a ticket uses the version in force at registration.

    A draft (no ``effective_from`` yet) is a manager's work in progress: no ticket, customer or
    "in force" question sees it (they all ask ``effective_from <= day``) until it is published
    with a date (``managers.policies.policy_draft_publish``)."""

    document = models.CharField(_("document"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    effective_from = models.DateField(_("effective from"), unique=True, null=True, blank=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    availability_percent = models.DecimalField(
        _("availability target (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Per calendar year, for the cloud software (001 §5.2: 99%; document 000: 99.8%)."),
    )

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("SLA policy version")
        verbose_name_plural = _("SLA policy versions")

    def __str__(self) -> str:
        return f"{self.document} ({self.effective_from or _('draft')})"

    @property
    def is_draft(self) -> bool:
        return self.effective_from is None


class ServiceLevelTerms(models.Model):
    """What one level promises besides its targets, as one version of the SLA document says
    (§1.2.2 "Service Overzicht Standaarden"). The versions differ: document 000 lets 1
    (Default) / 3 (Extended) users register calls, 001 lets 2 / 4. The terms in force on a
    date are those of the policy version in force then (``sla.selectors.level_terms``).
    Seeded for both documents; a new version starts with a copy of the terms it replaces."""

    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="level_terms")
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.CASCADE, related_name="terms")
    reports_per_year = models.PositiveSmallIntegerField(_("service reports per year"), default=0)
    own_consultant = models.BooleanField(_("dedicated consultant"), default=False)
    consultant_lead_days = models.PositiveSmallIntegerField(_("consultant booking lead time (days)"))
    max_coordinators = models.PositiveSmallIntegerField(_("users who may register calls"))
    channel_portal = models.BooleanField(_("self-service portal"), default=True)
    channel_mail = models.BooleanField(_("mail"), default=False)
    channel_phone = models.BooleanField(_("phone contact"), default=False)

    class Meta:
        ordering = ["policy_version", "service_level"]
        verbose_name = _("service level terms")
        verbose_name_plural = _("service level terms")
        constraints = [
            models.UniqueConstraint(fields=["policy_version", "service_level"], name="level_terms_once")
        ]

    def __str__(self) -> str:
        return f"{self.service_level_id} @ {self.policy_version_id}"


class ClockKind(models.TextChoices):
    RESPONSE = "response", _("Response")
    RESOLUTION = "resolution", _("Resolution")


class TargetUnit(models.TextChoices):
    HOURS = "hours", _("business hours")
    DAYS = "days", _("business days")
    BEST_EFFORT = "best_effort", _("best effort")


class Target(models.Model):
    """One figure of SPEC §2: e.g. incident response, Extended, High = 2 business hours."""

    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="targets")
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.CASCADE, related_name="targets")
    ticket_kind = models.CharField(_("ticket kind"), max_length=30, choices=TicketKind.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    clock = models.CharField(_("clock"), max_length=10, choices=ClockKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=7, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=12, choices=TargetUnit.choices)

    class Meta:
        ordering = ["policy_version", "service_level", "ticket_kind", "clock", "priority"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(
                fields=["policy_version", "service_level", "ticket_kind", "priority", "clock"],
                name="target_once_per_cell",
            ),
            models.CheckConstraint(
                condition=Q(unit="best_effort", amount__isnull=True)
                | (~Q(unit="best_effort") & Q(amount__gt=0)),
                name="target_amount_matches_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_kind} {self.clock} P{self.priority}: {self.display}"

    @property
    def display(self) -> str:
        if self.unit == TargetUnit.BEST_EFFORT:
            return str(TargetUnit.BEST_EFFORT.label)
        return f"{self.amount.normalize():f} {self.get_unit_display()}"

    def seconds(self, *, day_seconds: int) -> int | None:
        """The target in business seconds; None for best effort."""
        if self.unit == TargetUnit.BEST_EFFORT:
            return None
        per_unit = 3600 if self.unit == TargetUnit.HOURS else day_seconds
        return int(self.amount * per_unit)


class PriorityRule(models.Model):
    """A cell of the impact x urgency matrix of SPEC §4."""

    impact = models.PositiveSmallIntegerField(choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ["urgency", "impact"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="priority_rule_once")]

    def __str__(self) -> str:
        return f"I-{self.impact} x U-{self.urgency} -> {self.priority}"


class Contract(models.Model):
    """An organisation's service level over a date range."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="contracts"
    )
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="contracts")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-valid_from"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="contract_ends_after_it_starts",
            ),
            models.UniqueConstraint(fields=["organisation", "valid_from"], name="contract_start_once"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} - {self.service_level} from {self.valid_from}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


class Clock(models.Model):
    """A response or resolution clock of one ticket.

    Its state is derivable from its events (``ClockEvent``); the fields below are that
    derivation stored, so sweeps and pages read indexed columns instead of replaying events.
    ``consumed_seconds`` is the business time counted up to ``segment_started_at`` (the start
    of the current running stretch); ``due_at`` and ``at_risk_at`` are set only while it runs.
    """

    # Indexed by the unique (ticket, kind) constraint: a second index on ticket alone would
    # only cost writes.
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="clocks", db_index=False
    )
    kind = models.CharField(max_length=10, choices=ClockKind.choices)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="clocks")
    target_seconds = models.PositiveIntegerField(null=True, blank=True)  # None: best effort
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    consumed_seconds = models.PositiveIntegerField(default=0)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # The published figures' measure of a stopped clock (SPEC §2, ``BusinessCalendar.
    # working_days_used`` / ``months_used``): the working days it took (0: the day it started,
    # 1: by the close of the next working day) and the calendar months, pauses excluded. Set
    # when it stops, so the dashboard counts "within N working days" in SQL.
    working_days = models.PositiveIntegerField(null=True, blank=True)
    months = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [models.UniqueConstraint(fields=["ticket", "kind"], name="clock_once_per_kind")]
        indexes = [
            # The desk queue and dashboards: open clocks by deadline.
            models.Index(fields=["due_at"], name="clock_running_due", condition=Q(state="running")),
            # The what-if preview of a calendar change (sla.whatif): the open clocks of one
            # calendar, a few percent of the table.
            models.Index(fields=["calendar"], name="clock_open_calendar", condition=~Q(state="stopped")),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.state}"

    @property
    def is_best_effort(self) -> bool:
        return self.target_seconds is None


class ClockAction(models.TextChoices):
    START = "start", _("Started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    STOP = "stop", _("Stopped")


class ClockEvent(models.Model):
    """Who started, paused, resumed or stopped a clock, when and why: the clock's history."""

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=ClockAction.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("clock event")
        verbose_name_plural = _("clock events")

    def __str__(self) -> str:
        return f"{self.action} @ {self.at}"


class TransitionKind(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


class ClockTransition(models.Model):
    """A clock crossing its at-risk instant or its deadline, recorded exactly once."""

    # The sweep records transitions of clocks it has from pending crossings, whose own foreign
    # key keeps the clock there while it holds them; a database constraint here would look up
    # and lock (KEY SHARE, a heap write) 20,000 random clock rows per catch-up, ~0.9 s of the
    # sweep at a million tickets. Django still cascades deletes. The unique (clock, kind)
    # constraint is the index.
    clock = models.ForeignKey(
        Clock, on_delete=models.CASCADE, related_name="transitions", db_constraint=False, db_index=False
    )
    kind = models.CharField(max_length=10, choices=TransitionKind.choices)
    crossed_at = models.DateTimeField()  # the at-risk or due instant that was crossed
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-crossed_at"]
        verbose_name = _("clock transition")
        verbose_name_plural = _("clock transitions")
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="transition_once")]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} @ {self.crossed_at}"


class PendingCrossing(models.Model):
    """An at-risk instant or deadline of a running clock that the sweep has still to record.

    Written whenever a clock's instants are stored, deleted by the sweep as it records them:
    the sweep reads a range of this small table's index and deletes what it found. Marking the
    crossings on the clocks themselves instead meant updating rows of the clock table and all
    its indexes, 4-5 s for 20,000 crossings at a million open tickets (bench/sweep.py)."""

    # Indexed by the unique (clock, kind) constraint.
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=TransitionKind.choices)
    at = models.DateTimeField()  # from when the sweep records it
    # What the transition records: the at-risk instant (``at`` itself) or the deadline. A
    # breach begins a business second after its deadline, which may be the next opening
    # (a deadline at closing time) or a resume (a clock paused at its deadline).
    crossed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending SLA crossing")
        verbose_name_plural = _("pending SLA crossings")
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="pending_crossing_once")]
        indexes = [models.Index(fields=["at"], name="pending_crossing_at")]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} @ {self.at}"


class Heartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat task: /healthz reads
    its age to tell whether worker and beat are alive."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


# --- Managers: published figures, availability, announcements, SLA changes, reports ---------


class FigureUnit(models.TextChoices):
    HOURS = "hours", _("business hours")
    DAYS = "days", _("working days")
    MONTHS = "months", _("calendar months")


class PublishedFigure(models.Model):
    """A performance figure the SLA publishes as "what we achieve today" (§1.2.3): e.g. 95%
    of resolutions below High within 5 working days. The dashboard measures each against the
    clocks that stopped in a period, on each ticket's own calendar, pauses excluded: hours are
    business hours; "within N working days" is by the close of the Nth working day after the
    one the clock started on ("next working day" is N = 1); "within N months" by the same time
    N calendar months later (``Clock.working_days`` and ``Clock.months``). Seeded; editable."""

    clock = models.CharField(_("clock"), max_length=10, choices=ClockKind.choices)
    high_priority = models.BooleanField(
        _("High priority"), help_text=_("On: applies to High tickets; off: to every priority below High.")
    )
    within_amount = models.DecimalField(_("within"), max_digits=7, decimal_places=2)
    within_unit = models.CharField(_("unit"), max_length=10, choices=FigureUnit.choices)
    share_percent = models.DecimalField(_("share promised (%)"), max_digits=5, decimal_places=2)
    label = models.CharField(_("as published"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]  # as seeded: response first, High before below High
        verbose_name = _("published figure")
        verbose_name_plural = _("published figures")
        constraints = [
            models.CheckConstraint(
                condition=Q(within_amount__gt=0, share_percent__gt=0, share_percent__lte=100),
                name="published_figure_sane",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.clock} {'High' if self.high_priority else '<High'}: {self.share_percent}% "
            f"within {self.within_amount.normalize():f} {self.within_unit}"
        )

    def within_q(self) -> Q:
        """The stopped clocks that stayed within this figure (on their own calendars)."""
        if self.within_unit == FigureUnit.HOURS:
            return Q(consumed_seconds__lte=int(self.within_amount * 3600))
        if self.within_unit == FigureUnit.MONTHS:
            return Q(months__lte=self.within_amount)
        return Q(working_days__lte=self.within_amount)

    @property
    def key(self) -> str:
        """What the roll-up files this figure's count under: an edited figure misses its key."""
        return f"{self.pk}:{self.within_unit}:{self.within_amount.normalize():f}"


class HostedProduct(models.Model):
    """A product we run in our cloud (SPEC §6, §8): what availability is measured for. No
    organisations chosen means every customer uses it."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    organisations = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="hosted_products", verbose_name=_("organisations")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("hosted product")
        verbose_name_plural = _("hosted products")

    def __str__(self) -> str:
        return self.name


class MaintenanceWindow(models.Model):
    """A weekly maintenance window (SPEC §8: Mon-Fri 20:00-04:00, Saturday and Sunday all day,
    Amsterdam). A window whose end is not after its start runs into the next day (20:00-04:00;
    00:00-00:00 is the whole day). Time inside a window does not count for availability."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=Weekday.choices,
    )
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"), help_text=_("Not after the start: the next day."))
    timezone = models.CharField(_("timezone"), max_length=64, default="Europe/Amsterdam")

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class OutageQuerySet(TenantQuerySet):
    """Customers see the outages of their own organisation and those that hit everyone."""

    def for_user(self, user):
        if getattr(user, "is_authenticated", False) and user.is_customer and user.organisation_id:
            return self.filter(
                Q(organisations__isnull=True) | Q(organisations=user.organisation_id)
            ).distinct()
        return super().for_user(user)


class Outage(models.Model):
    """A stretch in which hosted products were down. It counts as downtime (document 001 §5.2)
    unless it is force majeure, or as far as it lies within maintenance announced before it
    began (``maintenance``). Time in the weekly maintenance window counts like any other: the
    window only says when maintenance may be announced."""

    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(
        _("ends at"), null=True, blank=True, help_text=_("Empty while the outage lasts.")
    )
    products = models.ManyToManyField(HostedProduct, related_name="outages", verbose_name=_("products"))
    organisations = models.ManyToManyField(
        "accounts.Organisation",
        blank=True,
        related_name="outages",
        verbose_name=_("organisations"),
        help_text=_("Empty: every organisation was affected."),
    )
    maintenance = models.ForeignKey(
        "Announcement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outages",
        limit_choices_to={"topic": "maintenance"},
        verbose_name=_("announced maintenance"),
        help_text=_(
            "Only the part within the announced period counts as maintenance, and only if it "
            "was announced before the outage began."
        ),
    )
    force_majeure = models.BooleanField(_("force majeure"), default=False)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = OutageQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="outage_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.title


#: The topics a manager announces (SPEC §11); contacts choose which of them they receive.
ANNOUNCEMENT_TOPICS = (
    NotificationTopic.DATA_LEAK,
    NotificationTopic.DISRUPTION,
    NotificationTopic.RELEASE,
    NotificationTopic.NEWS,
    NotificationTopic.MAINTENANCE,
)


class Announcement(models.Model):
    """News for every customer on one topic, shown in the portal and mailed (through the
    outbox) to the contacts subscribed to that topic. An SLA change notice is one too, tied
    to its policy version, and it reaches every organisation's coordinators regardless."""

    topic = models.CharField(
        _("topic"), max_length=20, choices=[(t.value, t.label) for t in ANNOUNCEMENT_TOPICS]
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    release_notes = models.TextField(_("release notes"), blank=True)
    published_at = models.DateTimeField(_("published at"), db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    policy_version = models.OneToOneField(
        PolicyVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="announcement"
    )
    # Maintenance (document 001 §5.2, §5.4): the announced period in which the service may be
    # out of use, inside the maintenance window. Outages linked to it do not count within it.
    maintenance_starts_at = models.DateTimeField(_("maintenance from"), null=True, blank=True)
    maintenance_ends_at = models.DateTimeField(_("maintenance until"), null=True, blank=True)

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            models.CheckConstraint(
                name="announcement_maintenance_period",
                condition=(Q(maintenance_starts_at__isnull=True) & Q(maintenance_ends_at__isnull=True))
                | Q(topic="maintenance", maintenance_ends_at__gt=models.F("maintenance_starts_at")),
            )
        ]

    def __str__(self) -> str:
        if self.maintenance_starts_at and self.maintenance_ends_at:
            starts = timezone.localtime(self.maintenance_starts_at)
            ends = timezone.localtime(self.maintenance_ends_at)
            return f"{self.title} ({starts:%Y-%m-%d %H:%M} - {ends:%Y-%m-%d %H:%M})"
        return self.title


class PolicyObjectionQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class PolicyObjection(models.Model):
    """SPEC §8: a customer may object, with reasons, within one month of an SLA change's
    announcement. One per organisation and version."""

    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="objections")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="policy_objections"
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    motivation = models.TextField(_("motivation"))
    filed_at = models.DateTimeField(_("filed at"))

    objects = PolicyObjectionQuerySet.as_manager()

    class Meta:
        ordering = ["policy_version", "filed_at"]
        verbose_name = _("objection to an SLA change")
        verbose_name_plural = _("objections to SLA changes")
        constraints = [
            models.UniqueConstraint(fields=["policy_version", "organisation"], name="policy_objection_once")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} objects to {self.policy_version_id}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being produced")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ServiceReportQuerySet(TenantQuerySet):
    tenant_path = "organisation"


class ServiceReport(models.Model):
    """A service report of one organisation over a period (SPEC §1: 4 a year on Extended):
    stored as produced (HTML and PDF), so what was sent is what can be shown later."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="service_reports",
        verbose_name=_("organisation"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until (inclusive)"))
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, for the progress bar
    html = models.TextField(blank=True)
    pdf = models.BinaryField(blank=True, default=b"")
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # empty: the quarterly beat job
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last (re)queued: a report queued long ago was never enqueued (the broker was
    # down) and managers.tasks.service_reports_catch_up_task enqueues it again.
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # False for the older reports the beat job catches up on its first run: only the newest is mailed.
    mail_coordinators = models.BooleanField(default=True)

    objects = ServiceReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "organisation"]
        verbose_name = _("service report")
        verbose_name_plural = _("service reports")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "period_start", "period_end"], name="service_report_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="service_report_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.period_start}..{self.period_end}"


class ComplianceDay(models.Model):
    """The clocks that stopped on one day (Amsterdam), counted per clock kind, service level,
    priority and calendar: the dashboard's trend and published figures read these few rows
    instead of a million clocks. Kept by ``managers.rollup.compliance_rollup_refresh`` (every
    minute: new days and the days whose clocks changed) and rebuilt nightly; today and any
    day not yet rolled up are counted from the clocks themselves.

    ``within`` holds, per published figure, how many of these clocks stayed within it, keyed
    ``"<figure id>:<threshold seconds>"`` so that an edited figure simply misses its key and
    is counted from the clocks until the next rebuild."""

    day = models.DateField()
    clock = models.CharField(max_length=10, choices=ClockKind.choices)
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0)  # every stopped clock, best effort included
    with_target = models.PositiveIntegerField(default=0)
    met = models.PositiveIntegerField(default=0)  # with a target and within it
    within = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("compliance per day")
        verbose_name_plural = _("compliance per day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "clock", "service_level", "priority", "calendar"], name="compliance_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.clock} P{self.priority}: {self.met}/{self.with_target}"


class ComplianceOrganisationDay(models.Model):
    """ComplianceDay per organisation as well: one organisation's trend and published figures
    read these rows instead of its clocks. Counted in the same pass as ComplianceDay, whose
    rows are their sums (``managers.rollup``), so the two always agree."""

    # Several hundred thousand rows counted from clocks and tickets whose own foreign keys hold
    # these ids: database constraints here (deferred: checked at commit) cost the nightly
    # rebuild 2 million lookups, ~12 s at a million tickets. Django still cascades deletes.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    clock = models.CharField(max_length=10, choices=ClockKind.choices)
    service_level = models.ForeignKey(
        ServiceLevel, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    calendar = models.ForeignKey(
        Calendar, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    total = models.PositiveIntegerField(default=0)
    with_target = models.PositiveIntegerField(default=0)
    met = models.PositiveIntegerField(default=0)
    within = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("compliance per organisation and day")
        verbose_name_plural = _("compliance per organisation and day")
        constraints = [
            # also the index of the reads: one organisation, a range of days
            models.UniqueConstraint(
                fields=["organisation", "day", "clock", "service_level", "priority", "calendar"],
                name="compliance_org_day_once",
            )
        ]
        indexes = [models.Index(fields=["day"], name="compliance_org_day_day")]  # the recounts

    def __str__(self) -> str:
        return (
            f"{self.organisation_id} {self.day} {self.clock} P{self.priority}: {self.met}/{self.with_target}"
        )


class ComplianceRollupState(models.Model):
    """Where the roll-up stands (one row): days before ``rolled_until`` are in ComplianceDay;
    clock events up to ``last_event_id`` and ticket changes up to ``last_ticket_update`` are
    accounted for."""

    rolled_until = models.DateField(null=True, blank=True)
    last_event_id = models.BigIntegerField(default=0)
    last_ticket_update = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("compliance roll-up state")

    def __str__(self) -> str:
        return f"rolled until {self.rolled_until}"
