"""The customers' "Our SLA" page: what the SLA promises their organisation, and how it went."""

from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import customer_required
from managers.our_sla import our_sla


@customer_required
def service_index_portal(request):
    """/portal/service/: the index of the service pages (the README names it)."""
    return render(request, "managers/service_index.html")


@customer_required
def our_sla_portal(request):
    """Always the user's own organisation: there is no parameter to name another."""
    overview = our_sla(organisation=request.user.organisation, today=timezone.localdate())
    return render(request, "managers/our_sla.html", {"sla": overview, "priorities": _priority_labels()})


def _priority_labels() -> list[str]:
    from sla.models import Target

    return [str(label) for _value, label in Target._meta.get_field("priority").choices]
