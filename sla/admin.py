"""The SLA as data, editable by support managers in the admin.

Every save or delete that changes which hours count (a calendar, its opening hours, its
closure days, the public holidays) calls ``sla.services.calendar_changed`` from the admin's
own hooks (``save_related``, ``save_model``, ``delete_model``, ``delete_queryset``) rather
than a signal, so the recomputation of open clocks is visible here and runs once per request
after the commit. Targets and the priority matrix are read when a ticket is registered or
re-prioritised; editing them does not move open tickets' deadlines.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sla.models import (
    Calendar,
    Clock,
    ClockEvent,
    ClockTransition,
    ClosureDay,
    Contract,
    Heartbeat,
    Holiday,
    OpeningHours,
    PolicyVersion,
    PriorityRule,
    ServiceLevel,
    ServiceLevelTerms,
    Target,
)
from sla.services import calendar_changed

FUTURE_TICKETS_ONLY = _(
    "Changes apply to tickets registered (or re-prioritised) from now on; the deadlines of "
    "open tickets are not recomputed."
)


def _calendar_changed(request, calendar: Calendar | None = None) -> None:
    """``calendar_changed`` once per request and calendar (or once for all of them): a list edit
    of ten holidays is one recomputation, not ten."""
    done = request.__dict__.setdefault("_sla_calendars_changed", set())
    key = calendar.pk if calendar is not None else "all"
    if key in done or "all" in done:
        return
    done.add(key)
    calendar_changed(calendar=calendar)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "closed_on_good_friday", "liberation_day", "version"]
    readonly_fields = ["version"]
    inlines = [OpeningHoursInline, ClosureDayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # the inlines are saved by now
        _calendar_changed(request, form.instance)

    def delete_model(self, request, obj):
        _calendar_changed(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for calendar in queryset:
            _calendar_changed(request, calendar)
        super().delete_queryset(request, queryset)


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ["date", "calendar", "reason"]
    list_filter = ["calendar"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _calendar_changed(request, obj.calendar)
        if change and "calendar" in form.changed_data and form.initial.get("calendar"):
            _calendar_changed(request, Calendar.objects.get(pk=form.initial["calendar"]))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _calendar_changed(request, obj.calendar)

    def delete_queryset(self, request, queryset):
        calendars = list(Calendar.objects.filter(closure_days__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for calendar in calendars:
            _calendar_changed(request, calendar)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "kind", "active", "from_library"]
    list_editable = ["active"]
    list_filter = ["active", "kind", "from_library"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _calendar_changed(request)  # public holidays count on every calendar

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _calendar_changed(request)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _calendar_changed(request)


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "calendar", "at_risk_percent"]
    prepopulated_fields = {"code": ["name"]}


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = ["service_level", "ticket_kind", "clock", "priority", "amount", "unit"]


class ServiceLevelTermsInline(admin.TabularInline):
    """Coordinators, channels, reports and lead time per level, as this version says them."""

    model = ServiceLevelTerms
    extra = 0
    fields = [
        "service_level",
        "max_coordinators",
        "consultant_lead_days",
        "reports_per_year",
        "own_consultant",
        "channel_portal",
        "channel_mail",
        "channel_phone",
    ]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["document", "name", "effective_from", "announced_at", "availability_percent"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "document",
                    "name",
                    "effective_from",
                    "announced_at",
                    "notes",
                    "availability_percent",
                ],
                "description": FUTURE_TICKETS_ONLY,
            },
        )
    ]
    inlines = [ServiceLevelTermsInline, TargetInline]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["policy_version", "service_level", "ticket_kind", "clock", "priority", "display"]
    list_filter = ["policy_version", "service_level", "ticket_kind", "clock"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "policy_version",
                    "service_level",
                    "ticket_kind",
                    "clock",
                    "priority",
                    "amount",
                    "unit",
                ],
                "description": FUTURE_TICKETS_ONLY,
            },
        )
    ]


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["urgency", "impact", "priority"]
    fieldsets = [(None, {"fields": ["urgency", "impact", "priority"], "description": FUTURE_TICKETS_ONLY})]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["organisation", "service_level", "valid_from", "valid_until"]
    list_filter = ["service_level"]
    search_fields = ["organisation__name"]
    autocomplete_fields = ["organisation"]


class ReadOnlyAdminMixin:
    """The engine's own records: looked at, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ClockEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ClockEvent
    fields = ["at", "action", "by", "reason"]
    readonly_fields = fields
    extra = 0


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["ticket", "kind", "state", "due_at", "at_risk_at"]
    list_filter = ["kind", "state", "calendar"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__title"]
    inlines = [ClockEventInline]


@admin.register(ClockTransition)
class ClockTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["clock", "kind", "crossed_at", "recorded_at"]
    list_filter = ["kind"]
    list_select_related = ["clock"]
    date_hierarchy = "crossed_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
