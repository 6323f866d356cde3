"""What every API view shares: consistent error bodies and the permission classes."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Every error body is `{"message": str, "errors": {field: [str]}}`; the services' Django
    ValidationError and PermissionDenied become 400 and 403 instead of 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
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
