"""Tickets over the API: the same services as the pages, scoped in every get_queryset()."""

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Role, User
from sla.models import ClockEvent
from sla.selectors import clock_explain
from sla_portal.api import IsSupportStaff, idempotent
from tickets import selectors, services
from tickets.api import serializers as s
from tickets.api.search import SearchIn, SearchOut
from tickets.choices import BugStatus, Clarity, ProblemType, Todo
from tickets.downloads import attachment_response
from tickets.models import (
    Attachment,
    BugReference,
    HoursCard,
    Message,
    Product,
    ReprioritisationRequest,
    Ticket,
)
from tickets.search import SearchError, search_tickets


class Version(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, help_text="The ticket's `version` you saw; a stale one gets 409 Conflict."
    )


class ClassifyIn(Version):
    clarity = serializers.ChoiceField(choices=Clarity.choices)
    question = serializers.CharField(required=False, allow_blank=True, default="")


class QuestionIn(Version):
    question = serializers.CharField()


class PriorityIn(Version):
    impact = serializers.IntegerField(min_value=1, max_value=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3)
    priority = serializers.IntegerField(min_value=1, max_value=3, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ProblemTypeIn(Version):
    problem_type = serializers.ChoiceField(choices=ProblemType.choices)


class ConsultancyIn(Version):
    agreed = serializers.BooleanField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)


class BugIn(Version):
    reference = serializers.CharField(max_length=100)
    url = serializers.URLField(required=False, allow_blank=True, default="")


class PlanIn(Version):
    planned_for = serializers.DateField()
    note = serializers.CharField()


class PlanConsultancyIn(Version):
    consultant = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(role=Role.CONSULTANT))
    on = serializers.DateField()


class ResolveIn(Version):
    resolution = serializers.CharField()


class TodoIn(Version):
    todo = serializers.ChoiceField(choices=Todo.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonIn(Version):
    reason = serializers.CharField()


class NoteIn(Version):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssignIn(Version):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role__in=[Role.AGENT, Role.CONSULTANT, Role.MANAGER, Role.ADMIN]),
        allow_null=True,
    )


class BodyIn(serializers.Serializer):
    body = serializers.CharField()


class ReprioritiseIn(serializers.Serializer):
    priority = serializers.IntegerField(min_value=1, max_value=3)
    reason = serializers.CharField()


class DecideIn(Version):
    request = serializers.IntegerField(help_text="The id of the re-prioritisation request.")
    accept = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BookHoursIn(serializers.Serializer):
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BugStatusIn(Version):
    status = serializers.ChoiceField(choices=BugStatus.choices)


def _call(service, *, returns_ticket: bool = True):
    """An action body: validate, call the service with `ticket` and `by`, answer the ticket."""

    def run(view, request, ticket: Ticket, data: dict):
        result = service(ticket=ticket, by=request.user, **data)
        if returns_ticket:
            ticket = view.get_queryset().get(pk=ticket.pk)
            return Response(s.TicketSerializer(ticket, context={"request": request}).data)
        return Response({"id": result.pk}, status=status.HTTP_201_CREATED)

    return run


def _decide(view, request, ticket: Ticket, data: dict):
    reprioritisation = ReprioritisationRequest.objects.filter(ticket=ticket, pk=data.pop("request")).first()
    if reprioritisation is None:
        raise serializers.ValidationError({"request": ["No such re-prioritisation request on this ticket."]})
    services.reprioritisation_decide(request=reprioritisation, by=request.user, **data)
    return Response(
        s.TicketSerializer(view.get_queryset().get(pk=ticket.pk), context={"request": request}).data
    )


# action name -> (input serializer, body, staff only). Each becomes POST /tickets/{id}/<name>/;
# the services check roles (RACI), states and versions themselves.
ACTIONS = {
    "classify": (ClassifyIn, _call(services.ticket_classify), True),
    "question": (QuestionIn, _call(services.ticket_question_ask), True),
    "priority": (PriorityIn, _call(services.ticket_priority_set), True),
    "problem-type": (ProblemTypeIn, _call(services.ticket_problem_determine), True),
    "consultancy": (ConsultancyIn, _call(services.ticket_consultancy_agree), True),
    "bug": (BugIn, _call(services.bug_register, returns_ticket=False), True),
    "plan-with-customer": (PlanIn, _call(services.ticket_plan_with_customer), True),
    "plan-consultancy": (PlanConsultancyIn, _call(services.consultancy_plan), True),
    "resolve": (ResolveIn, _call(services.ticket_resolve), True),
    "todo": (TodoIn, _call(services.ticket_todo_determine), True),
    "close": (ReasonIn, _call(services.ticket_close), True),
    "assign": (AssignIn, _call(services.ticket_assign), True),
    "approve-change": (NoteIn, _call(services.change_approve), True),
    "reject-change": (ReasonIn, _call(services.change_reject), True),
    "decide-reprioritisation": (DecideIn, _decide, True),
    "reply": (BodyIn, _call(services.message_reply_public, returns_ticket=False), True),
    "note": (BodyIn, _call(services.message_note_internal, returns_ticket=False), True),
    "book-hours": (BookHoursIn, _call(services.hours_book, returns_ticket=False), True),
    "message": (BodyIn, _call(services.message_customer, returns_ticket=False), False),
    "reprioritise": (ReprioritiseIn, _call(services.reprioritisation_request, returns_ticket=False), False),
    "confirm": (Version, _call(services.ticket_confirm), False),
    "reopen": (ReasonIn, _call(services.ticket_reopen), False),
}


def _make_action(name: str, serializer_class, body, staff_only: bool):
    def handler(self, request, pk=None):
        ticket = self.get_object()  # another organisation's ticket is a 404 before anything else
        if staff_only and not request.user.is_support_staff:
            self.permission_denied(request, message="Only support staff may do this.")
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return body(self, request, ticket, dict(data.validated_data))

    handler.__name__ = name.replace("-", "_")
    handler.__doc__ = f"Workflow step `{name}` (same rules as the pages)."
    handler = extend_schema(
        request=serializer_class,
        responses={200: s.TicketSerializer, 201: None},
        operation_id=f"tickets_{handler.__name__}",
    )(handler)
    return action(detail=True, methods=["post"], url_path=name)(handler)


class TicketViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Tickets: customers see their organisation's, staff see all. Registering takes an
    `Idempotency-Key` header so a retried POST does not create a second ticket."""

    serializer_class = s.TicketSerializer
    filterset_fields = ["status", "kind", "priority", "organisation", "assignee", "service_level", "product"]
    search_fields = ["title"]
    ordering_fields = ["registered_at", "due_at", "priority"]
    ordering = ["-registered_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return selectors.with_clocks(Ticket.objects.for_user(self.request.user)).order_by("-registered_at")

    def get_throttles(self):
        if self.action == "create":
            self.throttle_scope = "ticket_create"
            return [ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=s.TicketCreateSerializer,
        responses={201: s.TicketSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @idempotent("tickets.create")
    def create(self, request):
        data = s.TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        ticket = services.ticket_register(by=request.user, suggested_impact=fields.pop("impact"), **fields)
        ticket = self.get_queryset().get(pk=ticket.pk)
        return Response(
            s.TicketSerializer(ticket, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(parameters=[SearchIn], responses=SearchOut)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def search(self, request):
        """Full-text search, best first: number, title, description, messages (internal notes
        for staff only), bug references, requester, organisation - scoped like every list."""
        data = SearchIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        try:
            params = data.validated_data
            result = search_tickets(request.user, params["q"], limit=params["limit"], offset=params["offset"])
        except SearchError as exc:
            raise serializers.ValidationError({"q": [str(exc)]}) from exc
        return Response(SearchOut(result).data)

    @extend_schema(responses=s.TicketSlaSerializer)
    @action(detail=True, methods=["get"])
    def sla(self, request, pk=None):
        """The ticket's clocks: due instants, pauses, and the business intervals counted."""
        ticket = self.get_object()
        now = timezone.now()
        events = {}
        for event in (
            ClockEvent.objects.filter(clock__ticket=ticket).select_related("by").order_by("at", "pk")
        ):
            events.setdefault(event.clock_id, []).append(event)
        clocks = []
        for clock_status in selectors.clock_statuses(ticket, now=now):
            clock = clock_status.clock
            explanation = clock_explain(clock, now=now)
            clocks.append(
                {
                    "kind": clock.kind,
                    "state": clock.state,
                    "sla_state": clock_status.state,
                    "target_seconds": clock.target_seconds,
                    "counted_seconds": explanation.counted_seconds,
                    "remaining_seconds": explanation.remaining_seconds,
                    "due_at": clock.due_at,
                    "at_risk_at": clock.at_risk_at,
                    "segments": explanation.segments,
                    "pauses": explanation.pauses,
                    "events": events.get(clock.pk, []),
                }
            )
        return Response(
            s.TicketSlaSerializer(
                {
                    "ticket": ticket.reference,
                    "service_level": ticket.service_level.name,
                    "policy_version": str(ticket.policy_version),
                    "clocks": clocks,
                }
            ).data
        )

    @extend_schema(responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole conversation, a list
    def messages(self, request, pk=None):
        """The conversation; internal notes only for staff."""
        ticket = self.get_object()
        rows = Message.objects.visible_to(request.user).filter(ticket=ticket).select_related("author")
        return Response(s.MessageSerializer(rows.order_by("created_at", "pk"), many=True).data)

    @extend_schema(responses=s.TicketChangeSerializer(many=True))
    @action(detail=True, methods=["get"], permission_classes=[IsSupportStaff], pagination_class=None)
    def history(self, request, pk=None):
        """Every change: who, when, old -> new (staff)."""
        ticket = self.get_object()
        return Response(
            s.TicketChangeSerializer(ticket.changes.select_related("by").order_by("at", "pk"), many=True).data
        )


for _name, _spec in ACTIONS.items():
    setattr(TicketViewSet, _name.replace("-", "_"), _make_action(_name, *_spec))


class AttachmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Attachments of the tickets you may see; internal ones only for staff."""

    serializer_class = s.AttachmentSerializer
    filterset_fields = ["ticket"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        return Attachment.objects.visible_to(self.request.user).order_by("pk")

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment_response(self.get_object())


class BugReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.BugReferenceSerializer
    filterset_fields = ["ticket", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BugReference.objects.none()
        tickets = Ticket.objects.for_user(self.request.user)
        return BugReference.objects.filter(ticket__in=tickets).order_by("pk")

    @extend_schema(request=BugStatusIn, responses=s.BugReferenceSerializer)
    @action(detail=True, methods=["post"], url_path="status", permission_classes=[IsSupportStaff])
    def set_status(self, request, pk=None):
        data = BugStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        bug = services.bug_status_set(bug=self.get_object(), by=request.user, **data.validated_data)
        return Response(s.BugReferenceSerializer(bug).data)


class HoursCardViewSet(viewsets.ReadOnlyModelViewSet):
    """The prepaid consultancy hours cards ("strippenkaart") with their bookings."""

    serializer_class = s.HoursCardSerializer
    filterset_fields = ["organisation"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HoursCard.objects.none()
        return (
            HoursCard.objects.for_user(self.request.user)
            .prefetch_related(Prefetch("bookings"))
            .order_by("purchased_on", "pk")
        )


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The product catalogue of SPEC §6, with modules."""

    serializer_class = s.ProductSerializer
    queryset = Product.objects.filter(active=True).prefetch_related("modules").order_by("position", "name")
    lookup_field = "code"
