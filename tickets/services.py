"""Writes of tickets: registration and the workflow. Views, API and tasks all call these."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from sla import selectors as sla_selectors
from sla import services as sla_services
from tickets.models import Ticket


@transaction.atomic
def ticket_create(*, organisation: Organisation, by: User | None, kind: str, title: str,
                  impact: int, urgency: int, description: str = "",
                  registered_at: datetime | None = None) -> Ticket:
    """The official registration: binds the contract and policy version in force, sets the
    priority from the matrix and starts the SLA clocks at this instant."""
    registered_at = registered_at or timezone.now()
    on = timezone.localdate(registered_at)
    contract = sla_selectors.contract_in_force(organisation_id=organisation.pk, on=on)
    if contract is None:
        raise ValidationError(_("%(organisation)s has no support contract in force on %(date)s.")
                              % {"organisation": organisation, "date": on})
    policy = sla_selectors.policy_version_in_force(on=on)
    if policy is None:
        raise ValidationError(_("No SLA policy version is in force on %(date)s.") % {"date": on})
    ticket = Ticket(organisation=organisation, registered_by=by, kind=kind, title=title,
                    description=description, impact=impact, urgency=urgency,
                    priority=sla_selectors.priority_for(impact=impact, urgency=urgency),
                    registered_at=registered_at, contract=contract, policy_version=policy,
                    service_level=contract.service_level)
    ticket.full_clean()
    ticket.save()
    sla_services.sla_clocks_start(ticket=ticket, by=by)
    return ticket
