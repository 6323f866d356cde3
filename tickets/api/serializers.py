"""Ticket serializers. Customers never see internal notes or staff-only fields, and cannot
write priority, impact or status: those are only ever set by staff actions."""

from rest_framework import serializers

from sla.models import Clock, ClockEvent
from tickets.choices import ChangeType, Channel, Hosting, Impact, Nature, TicketKind, Urgency
from tickets.models import Attachment, BugReference, HoursBooking, HoursCard, Message, Module, Product, Ticket
from tickets.models import TicketChange as TicketChangeRow

# The priority reason is not among them: an override is a decision about the customer's ticket,
# and the portal shows its reason (issue 12 decided the API does too).
STAFF_ONLY_FIELDS = ("assignee", "consultant", "step")


class ClockSerializer(serializers.ModelSerializer):
    business_seconds_left = serializers.IntegerField(allow_null=True, read_only=True)
    sla_state = serializers.CharField(read_only=True)

    class Meta:
        model = Clock
        fields = [
            "kind",
            "state",
            "target_seconds",
            "consumed_seconds",
            "due_at",
            "at_risk_at",
            "stopped_at",
            "business_seconds_left",
            "sla_state",
        ]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    clocks = serializers.SerializerMethodField()
    # "" for every ticket that is not a change: the schema's enum says so (BlankEnum).
    change_type = serializers.ChoiceField(choices=ChangeType.choices, allow_blank=True, read_only=True)
    # Left out of customers' responses (to_representation): not required in the schema.
    schema_optional_fields = STAFF_ONLY_FIELDS

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "organisation",
            "kind",
            "change_type",
            "title",
            "description",
            "product",
            "module",
            "hosting",
            "nature",
            "channel",
            "suggested_impact",
            "impact",
            "urgency",
            "priority",
            "priority_overridden",
            "priority_reason",
            "status",
            "step",
            "assignee",
            "consultant",
            "registered_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "due_at",
            "version",
            "clocks",
        ]
        read_only_fields = fields

    def get_clocks(self, ticket) -> list[dict]:
        from tickets.selectors import clock_statuses

        return [
            dict(
                ClockSerializer(status.clock).data,
                business_seconds_left=status.left_seconds,
                sla_state=status.state,
            )
            for status in clock_statuses(ticket)
        ]

    def to_representation(self, ticket):
        data = super().to_representation(ticket)
        request = self.context.get("request")
        if request and not request.user.is_support_staff:
            for name in STAFF_ONLY_FIELDS:
                data.pop(name, None)
        return data


class ProductCodeField(serializers.SlugRelatedField):
    """A product by code. DRF's slug field looks any text up, and PostgreSQL refuses a NUL
    byte in a query parameter (a 500 that schemathesis found): such a code is simply unknown."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class TicketCreateSerializer(serializers.Serializer):
    """What a coordinator gives when registering (SPEC §4: urgency and a suggested impact)."""

    kind = serializers.ChoiceField(choices=TicketKind.choices)
    change_type = serializers.ChoiceField(choices=ChangeType.choices, required=False, allow_blank=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    product = ProductCodeField(
        slug_field="code",
        queryset=Product.objects.filter(active=True),
        help_text="A product code from GET /api/v1/products/.",
    )
    module = serializers.PrimaryKeyRelatedField(
        queryset=Module.objects.all(), required=False, allow_null=True, default=None
    )
    hosting = serializers.ChoiceField(choices=Hosting.choices, default=Hosting.CLOUD)
    nature = serializers.ChoiceField(choices=Nature.choices, default=Nature.TECHNICAL)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    impact = serializers.ChoiceField(
        choices=Impact.choices, help_text="Your suggested impact; support decides."
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        default=Channel.PORTAL,
        help_text="Only `portal`: this API is the portal's. A phone call or a mail never registers "
        "a ticket (SLA §1.2.2); anything else is a 400.",
    )


class ModuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Module
        fields = ["id", "code", "name"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    modules = ModuleSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["code", "name", "consultancy_for_functional", "modules"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField(allow_null=True, help_text="None for a message the system wrote.")

    class Meta:
        model = Message
        fields = ["id", "kind", "channel", "author", "body", "created_at"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "ticket",
            "message",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class TicketChangeSerializer(serializers.ModelSerializer):
    by = serializers.StringRelatedField(allow_null=True, help_text="None for a change the system made.")

    class Meta:
        model = TicketChangeRow
        fields = ["at", "by", "field", "old", "new"]
        read_only_fields = fields


class BugReferenceSerializer(serializers.ModelSerializer):
    # A CharField, not a URLField: the link is optional and "" is no URI.
    url = serializers.CharField(read_only=True, help_text="A link to the bug, or empty.")

    class Meta:
        model = BugReference
        fields = ["id", "ticket", "reference", "url", "status", "registered_at"]
        read_only_fields = fields


class HoursBookingSerializer(serializers.ModelSerializer):
    class Meta:
        model = HoursBooking
        fields = ["id", "ticket", "hours", "on", "note"]
        read_only_fields = fields


class HoursCardSerializer(serializers.ModelSerializer):
    bookings = HoursBookingSerializer(many=True, read_only=True)

    class Meta:
        model = HoursCard
        fields = ["id", "organisation", "hours", "purchased_on", "valid_until", "reference", "bookings"]
        read_only_fields = fields


class IntervalSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    seconds = serializers.FloatField()


class SegmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    intervals = IntervalSerializer(many=True, source="explanation.intervals")
    skipped_dates = serializers.ListField(child=serializers.DateField(), source="explanation.skipped_dates")
    counted_seconds = serializers.FloatField(source="explanation.total_seconds")


class PauseSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class ClockEventSerializer(serializers.ModelSerializer):
    by = serializers.StringRelatedField(allow_null=True, help_text="None for the system (a sweep).")

    class Meta:
        model = ClockEvent
        fields = ["action", "at", "by", "reason"]
        read_only_fields = fields


class ClockExplanationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    state = serializers.CharField()
    sla_state = serializers.CharField()
    target_seconds = serializers.IntegerField(allow_null=True)
    counted_seconds = serializers.IntegerField()
    remaining_seconds = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    at_risk_at = serializers.DateTimeField(allow_null=True)
    segments = SegmentSerializer(many=True)
    pauses = PauseSerializer(many=True)
    events = ClockEventSerializer(many=True)


class TicketSlaSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    service_level = serializers.CharField()
    policy_version = serializers.CharField()
    clocks = ClockExplanationSerializer(many=True)
