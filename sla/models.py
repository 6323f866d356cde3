"""Service levels, calendars, policy versions, targets, contracts and the clocks on tickets.

Every SLA figure is a row here, seeded from SPEC §1-§4 by data migrations and editable by a
support manager; nothing in code knows that "High on Extended" means 2 hours.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import Impact, Priority, TicketKind, Urgency


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
    liberation_day = models.CharField(_("closed on Liberation Day"), max_length=12,
                                      choices=LiberationDay.choices, default=LiberationDay.LUSTRUM)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=[
        (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
        (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))])
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")),
                                   name="opening_hours_open_before_close"),
            models.UniqueConstraint(fields=["calendar", "weekday", "opens"],
                                    name="opening_hours_unique_start"),
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
    """What a contract promises besides the targets (SPEC §1). Custom levels are rows too."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="service_levels")
    reports_per_year = models.PositiveSmallIntegerField(_("service reports per year"), default=0)
    own_consultant = models.BooleanField(_("dedicated consultant"), default=False)
    consultant_lead_days = models.PositiveSmallIntegerField(_("consultant booking lead time (days)"))
    max_coordinators = models.PositiveSmallIntegerField(_("users who may register calls"))
    channel_portal = models.BooleanField(_("self-service portal"), default=True)
    channel_mail = models.BooleanField(_("registration by mail"), default=False)
    channel_phone = models.BooleanField(_("phone contact"), default=False)
    at_risk_percent = models.PositiveSmallIntegerField(
        _("at risk from (% of the target)"), default=75,
        help_text=_("A running clock is 'at risk' once it has used this share of its target."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [models.CheckConstraint(condition=Q(at_risk_percent__gt=0, at_risk_percent__lt=100),
                                              name="service_level_at_risk_between_0_and_100")]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """One version of the SLA document; a ticket uses the version in force at registration."""

    document = models.CharField(_("document"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    effective_from = models.DateField(_("effective from"), unique=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("SLA policy version")
        verbose_name_plural = _("SLA policy versions")

    def __str__(self) -> str:
        return f"{self.document} ({self.effective_from})"


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
            models.UniqueConstraint(fields=["policy_version", "service_level", "ticket_kind",
                                            "priority", "clock"], name="target_once_per_cell"),
            models.CheckConstraint(
                condition=Q(unit="best_effort", amount__isnull=True)
                | (~Q(unit="best_effort") & Q(amount__gt=0)),
                name="target_amount_matches_unit"),
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

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE,
                                     related_name="contracts")
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="contracts")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-valid_from"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__isnull=True)
                                   | Q(valid_until__gte=models.F("valid_from")),
                                   name="contract_ends_after_it_starts"),
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

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=10, choices=ClockKind.choices)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="clocks")
    target_seconds = models.PositiveIntegerField(null=True, blank=True)  # None: best effort
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    consumed_seconds = models.PositiveIntegerField(default=0)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Set, with a ClockTransition row, by the sweep; the partial indexes below skip them.
    at_risk_recorded = models.BooleanField(default=False)
    breach_recorded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [models.UniqueConstraint(fields=["ticket", "kind"], name="clock_once_per_kind")]
        indexes = [
            # The sweep's range queries: only running clocks not yet recorded are in them, so a
            # sweep costs in proportion to the transitions, not to the open tickets.
            models.Index(fields=["due_at"], name="clock_due_unrecorded",
                         condition=Q(state="running", breach_recorded=False, due_at__isnull=False)),
            models.Index(fields=["at_risk_at"], name="clock_risk_unrecorded",
                         condition=Q(state="running", at_risk_recorded=False, at_risk_at__isnull=False)),
            # The desk queue and dashboards: open clocks by deadline.
            models.Index(fields=["due_at"], name="clock_running_due",
                         condition=Q(state="running")),
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
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
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

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="transitions")
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


class Heartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat task: /healthz reads
    its age to tell whether worker and beat are alive."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
