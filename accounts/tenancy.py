"""Tenant isolation as a mechanism: the one place that scopes customer-side queries.

Every model a customer can see uses ``TenantQuerySet`` (naming the path from the model
to its organisation) and every view fetches through ``for_user`` or
``get_for_user_or_404``, so no view has to remember the organisation filter.
"""

from typing import TypeVar

from django.db import models
from django.http import Http404

_Q = TypeVar("_Q", bound="TenantQuerySet")


class TenantQuerySet(models.QuerySet):
    #: the lookup from this model to the organisation's primary key
    tenant_path = "organisation"

    def for_user(self: _Q, user) -> _Q:
        """What ``user`` may see: everything for support staff, their organisation's rows for
        customers, nothing for anyone else."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_support_staff:
            return self
        if user.organisation_id is None:
            return self.none()
        return self.filter(**{self.tenant_path: user.organisation_id})


def get_for_user_or_404(queryset: TenantQuerySet, user, **lookup):
    """Like ``get_object_or_404`` but scoped: another tenant's row is indistinguishable
    from a missing one."""
    try:
        return queryset.for_user(user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
