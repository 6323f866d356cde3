"""What every API view shares: consistent error bodies and the permission classes."""

from functools import wraps

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from rest_framework import exceptions, parsers, permissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import IdempotencyKey
from sla_portal.errors import StaleVersion
from sla_portal.outage import OUTAGE_ERRORS, RETRY_AFTER_SECONDS, outage_message


def exception_handler(exc, context):
    """Every error body is `{"message": str, "errors": {field: [str]}}`; the services' Django
    ValidationError and PermissionDenied become 400 and 403 instead of 500, an outage (a
    server the request needs is down) 503 with `Retry-After`."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, StaleVersion):  # a stale expected_version (tickets' TicketConflict)
        exc = Conflict(str(exc))
    elif isinstance(exc, OUTAGE_ERRORS):  # Redis, the broker or the database is down
        exc = ServiceUnavailable(outage_message())
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        errors = {
            field: value if isinstance(value, list | dict) else [value] for field, value in errors.items()
        }
        message = _("The request has errors; see 'errors'.")
        if list(errors) == ["non_field_errors"] and errors["non_field_errors"]:
            message = " ".join(str(m) for m in errors["non_field_errors"])
        response.data = {"message": message, "errors": errors}
    else:
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = {"message": str(detail), "errors": {}}
    return response


class ServiceUnavailable(exceptions.APIException):
    """A server the request needs is down: 503 with ``Retry-After`` (DRF sets it from ``wait``)."""

    status_code = 503
    default_code = "service_unavailable"
    wait = RETRY_AFTER_SECONDS


# No request body of this API nests deeper than ~4 levels; 32 leaves room for any client and
# stops a body like [[[[...]]]] before it reaches code that walks it recursively (issue 12: a
# 500 from RecursionError).
MAX_JSON_DEPTH = 32


def _json_depth_exceeds(value, limit: int) -> bool:
    """Walk without recursion: True when ``value`` nests deeper than ``limit``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit: too deep is a 400 in the API's error shape,
    whether Python's decoder ran out of stack or the document is merely deeper than needed."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON nested too deeply.")) from exc
        if _json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                _("JSON nested too deeply: at most %(depth)d levels.") % {"depth": MAX_JSON_DEPTH}
            )
        return data


class IdFilter(filters.Filter):
    """A related object's id, compared as a number: no lookup of whether it exists."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """django-filter's default for a foreign key is a choice among *all* rows, which answered
    "invalid choice" for an id that does not exist but an empty list for another
    organisation's (issue 12: it told which ids exist elsewhere). Filtering on the id alone
    answers both alike, with an empty list, since every queryset is scoped to the caller."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class FilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The ticket was changed by someone else; reload it and try again."
    default_code = "conflict"


class IsSupportStaff(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_support_staff)


class IsManager(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_manager)


class ReadOrManagerWrites(permissions.BasePermission):
    """Anyone authenticated reads (their querysets are scoped); only managers write."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_manager


def idempotent(endpoint: str):
    """Wrap a create view: with an `Idempotency-Key` header, the first response is stored in
    the same transaction as what it created, and a retry gets that response back. A
    concurrent retry waits on the unique index until the first commits."""

    def decorator(view):
        @wraps(view)
        def wrapped(self, request, *args, **kwargs):
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key:
                return view(self, request, *args, **kwargs)
            if len(key) > 100:
                raise exceptions.ValidationError({"Idempotency-Key": _("At most 100 characters.")})
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        row = IdempotencyKey.objects.create(user=request.user, endpoint=endpoint, key=key)
                except IntegrityError:
                    first = IdempotencyKey.objects.get(user=request.user, endpoint=endpoint, key=key)
                    return Response(
                        first.response, status=first.status_code, headers={"Idempotent-Replayed": "true"}
                    )
                response = view(self, request, *args, **kwargs)
                if response.status_code >= 400:
                    transaction.set_rollback(True)  # a failed attempt may be retried as new
                    return response
                row.status_code, row.response = response.status_code, response.data
                row.save(update_fields=["status_code", "response"])
                return response

        return wrapped

    return decorator
