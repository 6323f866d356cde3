from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts import services, webhooks
from accounts.models import ApiToken, Organisation, User, Webhook, WebhookDelivery, WebhookEvent
from sla_portal.api import IsManager, IsSupportStaff


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp_code = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The current TOTP code; required when the account has one.",
    )
    name = serializers.CharField(max_length=100)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your personal tokens. Create one with your e-mail, password and (if you have one) your
    TOTP code; revoke with DELETE."""

    serializer_class = ApiTokenSerializer
    throttle_scope = "token_create"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def get_permissions(self):
        return [AllowAny()] if self.action == "create" else super().get_permissions()

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.action == "create" else []

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.user_authenticate_with_second_factor(
                request=request,
                email=data.validated_data["email"],
                password=data.validated_data["password"],
                otp_code=data.validated_data.get("otp_code", ""),
            )
        except services.TooManyLoginAttempts as exc:
            raise Throttled(detail=str(exc)) from exc
        except services.CredentialsRefused as exc:
            raise AuthenticationFailed(str(exc)) from exc
        token, key = services.api_token_create(user=user, name=data.validated_data["name"])
        body = ApiTokenCreatedSerializer(token).data
        body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.api_token_revoke(user=self.request.user, token_id=instance.pk)


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "mfa_required", "created_at"]
        read_only_fields = ["id", "created_at"]


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """Organisations: customers see their own; staff see all."""

    serializer_class = OrganisationSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return Organisation.objects.for_user(self.request.user).order_by("name")


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "organisation", "is_active", "language"]
        read_only_fields = fields


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users (support staff only)."""

    serializer_class = UserSerializer
    permission_classes = [IsSupportStaff]
    filterset_fields = ["role", "organisation", "is_active"]
    ordering_fields = ["email", "full_name"]

    def get_queryset(self):
        return User.objects.order_by("email")


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "active", "created_at", "secret"]
        read_only_fields = ["id", "created_at", "secret", "active"]

    def create(self, validated_data):
        return webhooks.webhook_create(by=self.context["request"].user, **validated_data)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event",
            "payload",
            "created_at",
            "attempts",
            "delivered_at",
            "next_attempt_at",
            "last_status",
            "last_error",
        ]
        read_only_fields = fields


class WebhookViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Webhooks (support managers): register an HTTPS URL for events; deleting switches it off."""

    serializer_class = WebhookSerializer
    permission_classes = [IsManager]
    queryset = Webhook.objects.order_by("-created_at")

    def perform_destroy(self, instance):
        Webhook.objects.filter(pk=instance.pk).update(active=False)


class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log (support managers)."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsManager]
    filterset_fields = ["webhook", "event"]
    queryset = WebhookDelivery.objects.order_by("-created_at")
