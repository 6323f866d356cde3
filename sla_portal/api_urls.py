"""/api/v1/: one router for every app's API."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api.views import (
    ApiTokenViewSet,
    OrganisationViewSet,
    UserViewSet,
    WebhookDeliveryViewSet,
    WebhookViewSet,
)
from sla.api.views import (
    CalendarViewSet,
    DeadlineCalculatorView,
    PolicyVersionViewSet,
    ServiceLevelViewSet,
    TargetViewSet,
)
from tickets.api.views import (
    AttachmentViewSet,
    BugReferenceViewSet,
    HoursCardViewSet,
    ProductViewSet,
    TicketViewSet,
)

router = DefaultRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("bugs", BugReferenceViewSet, basename="bug")
router.register("hours-cards", HoursCardViewSet, basename="hours-card")
router.register("products", ProductViewSet, basename="product")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("service-levels", ServiceLevelViewSet, basename="service-level")
router.register("policy-versions", PolicyVersionViewSet, basename="policy-version")
router.register("targets", TargetViewSet, basename="target")

urlpatterns = [
    path("deadline/", DeadlineCalculatorView.as_view(), name="deadline"),
    *router.urls,
]
