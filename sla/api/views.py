"""The SLA engine over the API: levels, calendars, policy versions and targets, a deadline
calculator. Customers read what their contract covers; managers write."""

from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sla import services
from sla.calendar import MAX_TARGET_BUSINESS_DAYS, OutOfRange, check_calculation, parse_duration
from sla.models import Calendar, ClosureDay, OpeningHours, PolicyVersion, ServiceLevel, Target
from sla.selectors import business_calendar
from sla_portal.api import ReadOrManagerWrites


def levels_visible_to(user):
    """Customers see the levels of their organisation's contracts; staff see all."""
    if not user.is_authenticated:  # only the schema generator gets here
        return ServiceLevel.objects.none()
    if user.is_support_staff:
        return ServiceLevel.objects.all()
    return ServiceLevel.objects.filter(contracts__organisation_id=user.organisation_id).distinct()


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "08:00"})
class WallClockTimeField(serializers.TimeField):
    """A wall-clock time in the calendar's timezone, `HH:MM`: not an RFC 3339 time, which
    would need an offset that a time of day in Amsterdam does not have."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class OpeningHoursSerializer(serializers.ModelSerializer):
    opens = WallClockTimeField()
    closes = WallClockTimeField()

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class ClosureDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClosureDay
        fields = ["date", "reason"]


class CalendarSerializer(serializers.ModelSerializer):
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)
    closure_days = ClosureDaySerializer(many=True, read_only=True)

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "timezone",
            "closed_on_good_friday",
            "liberation_day",
            "version",
            "opening_hours",
            "closure_days",
        ]
        read_only_fields = ["id", "name", "timezone", "version"]


class CalendarViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Business-hour calendars. Managers may change the holiday choices; every open clock on
    the calendar is then recomputed by a Celery task."""

    serializer_class = CalendarSerializer
    permission_classes = [ReadOrManagerWrites]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        calendars = Calendar.objects.prefetch_related("opening_hours", "closure_days").order_by("name")
        user = self.request.user
        if user.is_authenticated and user.is_support_staff:
            return calendars
        return calendars.filter(service_levels__in=levels_visible_to(user)).distinct()

    @transaction.atomic
    def perform_update(self, serializer):
        calendar = serializer.save()
        services.calendar_changed(calendar=calendar)


class ServiceLevelSerializer(serializers.ModelSerializer):
    # The model's check constraint (1-99): a 400 here, not an IntegrityError at the save.
    at_risk_percent = serializers.IntegerField(
        min_value=1,
        max_value=99,
        help_text="A running clock is at risk once it has used this share of its target.",
    )

    class Meta:
        model = ServiceLevel
        fields = [
            "id",
            "code",
            "name",
            "calendar",
            "at_risk_percent",
        ]
        read_only_fields = ["id", "code"]


class ServiceLevelViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ServiceLevelSerializer
    permission_classes = [ReadOrManagerWrites]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return levels_visible_to(self.request.user).order_by("name")


class TargetSerializer(serializers.ModelSerializer):
    display = serializers.CharField(read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "policy_version",
            "service_level",
            "ticket_kind",
            "priority",
            "clock",
            "amount",
            "unit",
            "display",
        ]
        read_only_fields = ["id", "policy_version", "service_level", "ticket_kind", "priority", "clock"]

    def validate(self, attrs):
        unit = attrs.get("unit", getattr(self.instance, "unit", None))
        amount = attrs.get("amount", getattr(self.instance, "amount", None))
        if unit == "best_effort" and amount is not None:
            raise serializers.ValidationError({"amount": _("Best effort has no amount.")})
        if unit != "best_effort" and (amount is None or amount <= 0):
            raise serializers.ValidationError({"amount": _("Give a positive amount of hours or days.")})
        # The calculator's bound (sla.calendar): a target feeds every later deadline.
        most = MAX_TARGET_BUSINESS_DAYS * (24 if unit == "hours" else 1)
        if unit != "best_effort" and amount > most:
            raise serializers.ValidationError(
                {"amount": _("At most %(most)s: five years of business days.") % {"most": most}}
            )
        return attrs


class PolicyVersionSerializer(serializers.ModelSerializer):
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = PolicyVersion
        fields = ["id", "document", "name", "effective_from", "announced_at", "notes", "targets"]
        read_only_fields = ["id", "announced_at"]


class PolicyVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA policy versions with their targets (customers: the targets of their own level)."""

    serializer_class = PolicyVersionSerializer

    def get_queryset(self):
        targets = Target.objects.filter(service_level__in=levels_visible_to(self.request.user))
        return (
            PolicyVersion.objects.filter(effective_from__isnull=False)
            .prefetch_related(
                Prefetch(
                    "targets", queryset=targets.order_by("service_level", "ticket_kind", "clock", "priority")
                )
            )
            .order_by("-effective_from")
        )


class TargetViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """One figure of a policy version. A change applies to tickets registered afterwards."""

    serializer_class = TargetSerializer
    permission_classes = [ReadOrManagerWrites]
    filterset_fields = ["policy_version", "service_level", "ticket_kind", "priority", "clock"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        targets = Target.objects.filter(service_level__in=levels_visible_to(self.request.user)).order_by("pk")
        if getattr(self.request.user, "is_customer", True):  # drafts are the managers' work in progress
            targets = targets.filter(policy_version__effective_from__isnull=False)
        return targets


class DeadlineRequestSerializer(serializers.Serializer):
    level = serializers.SlugField(help_text="A service level code, e.g. `default` or `extended`.")
    start = serializers.DateTimeField(help_text="ISO 8601; without an offset it is Amsterdam time.")
    target = serializers.CharField(help_text="Business time: `4h`, `30m`, `3d`, `0.5d`.")


class DeadlineResponseSerializer(serializers.Serializer):
    level = serializers.CharField()
    start = serializers.DateTimeField()
    target_seconds = serializers.IntegerField()
    deadline = serializers.DateTimeField()


class DeadlineCalculatorView(APIView):
    """start + target in the level's business hours -> the deadline."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "costly"

    @extend_schema(request=DeadlineRequestSerializer, responses={200: DeadlineResponseSerializer})
    def post(self, request):
        data = DeadlineRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        level = (
            levels_visible_to(request.user)
            .select_related("calendar")
            .filter(code=data.validated_data["level"])
            .first()
        )
        if level is None:
            raise serializers.ValidationError({"level": _("Unknown service level.")})
        calendar = business_calendar(level.calendar)
        try:
            seconds = parse_duration(data.validated_data["target"], day_seconds=calendar.day_seconds)
        except ValueError as exc:
            raise serializers.ValidationError({"target": str(exc)}) from exc
        start: datetime = data.validated_data["start"]
        try:
            check_calculation(start=start, seconds=seconds, day_seconds=calendar.day_seconds)
        except OutOfRange as exc:
            raise serializers.ValidationError({exc.field: str(exc)}) from exc
        deadline = calendar.add(start, seconds)
        return Response(
            DeadlineResponseSerializer(
                {
                    "level": level.code,
                    "start": timezone.localtime(start),
                    "target_seconds": seconds,
                    "deadline": timezone.localtime(deadline),
                }
            ).data
        )
