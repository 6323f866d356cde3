"""Role checks for views: one decorator per audience."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(predicate):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


customer_required = role_required(lambda user: user.is_customer)
staff_required = role_required(lambda user: user.is_support_staff)
manager_required = role_required(lambda user: user.is_manager)
