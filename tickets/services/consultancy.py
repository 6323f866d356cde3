"""Consultancy (SPEC §7): prepaid hours cards, planning a consultant no earlier than the level's
booking lead time, and booking the hours delivered."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, User
from sla import selectors as sla_selectors
from sla.models import ServiceLevel
from tickets.choices import ConsultancyDecision, ProcessStep, TicketStatus
from tickets.models import ConsultancyRequest, HoursBooking, HoursCard, Ticket
from tickets.services._common import (
    Edit,
    field_error,
    lock,
    new_card_advice,
    notify_step,
    record,
    require_status,
    require_step,
)


def level_lead_days(service_level_id: int) -> int:
    """The level's booking lead time in calendar days under the policy version in force today
    (§1.2.2 "Consultant Boektijd (min dagen)": 21 on Default, 7 on Extended)."""
    terms = sla_selectors.level_terms(service_level=service_level_id, on=timezone.localdate())
    return terms.consultant_lead_days if terms else 0


def consultant_lead_days(ticket: Ticket) -> int:
    """The booking lead time of the ticket's level (see ``level_lead_days``)."""
    return level_lead_days(ticket.service_level_id)


def earliest_consultancy_date(ticket: Ticket) -> date:
    """Today plus the level's booking lead time in calendar days."""
    return timezone.localdate() + timedelta(days=consultant_lead_days(ticket))


def check_consultancy_date(*, service_level: ServiceLevel, on: date) -> None:
    """The one lead-time check, for the desk planning a consultant and for a customer asking
    for one: no earlier than today plus the level's booking lead time."""
    days = level_lead_days(service_level.pk)
    earliest = timezone.localdate() + timedelta(days=days)
    if on < earliest:
        raise field_error(
            "on",
            _(
                "Too early: on the %(level)s level a consultant is booked at least %(days)d days ahead. "
                "The earliest date is %(earliest)s."
            )
            % {
                "level": service_level.name,
                "days": days,
                "earliest": formats.date_format(earliest, "DATE_FORMAT"),
            },
        )


@transaction.atomic
def hours_card_add(
    *,
    organisation: Organisation,
    by: User,
    hours: Decimal,
    purchased_on: date,
    valid_until: date | None = None,
    reference: str = "",
) -> HoursCard:
    if not by.is_manager:
        raise PermissionDenied(_("Only a support manager registers hours cards."))
    if hours <= 0:
        raise field_error("hours", _("A card holds a positive number of hours."))
    return HoursCard.objects.create(
        organisation=organisation,
        hours=hours,
        purchased_on=purchased_on,
        valid_until=valid_until,
        reference=reference,
    )


def _require_agreed(ticket: Ticket) -> None:
    if ticket.consultancy != ConsultancyDecision.AGREED:
        raise ValidationError(
            _("Consultancy has not been agreed with the customer on this ticket (step 5)."),
            code="invalid_transition",
        )


@transaction.atomic
def consultancy_plan(
    *, ticket: Ticket, by: User, consultant: User, on: date, expected_version: int | None = None
) -> Ticket:
    """Step 9: a consultant on a day no earlier than the booking lead time allows."""
    if consultant.role != Role.CONSULTANT or not consultant.is_active:
        raise field_error("consultant", _("Choose an active consultant."))
    ticket = lock(ticket, expected_version=expected_version)
    require_step(by, ProcessStep.PLAN_CONSULTANCY, ticket=ticket)
    require_status(ticket, {TicketStatus.OPEN}, action=_("plan consultancy on"))
    _require_agreed(ticket)
    check_consultancy_date(service_level=ticket.service_level, on=on)
    with Edit(ticket, by=by):
        ticket.consultant, ticket.consultancy_date, ticket.step = consultant, on, ProcessStep.PLAN_CONSULTANCY
    notify_step(
        ticket,
        step=ProcessStep.PLAN_CONSULTANCY,
        by=by,
        what=_("consultancy planned on %(date)s") % {"date": formats.date_format(on, "DATE_FORMAT")},
    )
    return ticket


@transaction.atomic
def hours_book(*, ticket: Ticket, by: User, hours: Decimal, on: date, note: str = "") -> HoursBooking:
    """Step 9: hours delivered, drawn from the oldest valid card that still covers them. The
    organisation's cards are locked, so two bookings cannot both spend the last hours."""
    if hours is None or hours <= 0:
        raise field_error("hours", _("Book a positive number of hours."))
    if on > timezone.localdate():
        raise field_error("on", _("Book hours once they are delivered, not ahead."))
    ticket = lock(ticket, expected_version=None)
    require_step(by, ProcessStep.PLAN_CONSULTANCY, ticket=ticket)
    require_status(ticket, {TicketStatus.OPEN, TicketStatus.RESOLVED}, action=_("book hours on"))
    _require_agreed(ticket)
    cards = list(
        HoursCard.objects.select_for_update()
        .filter(organisation_id=ticket.organisation_id)
        .exclude(valid_until__lt=on)
        .order_by("purchased_on", "pk")
    )
    used = dict(
        HoursBooking.objects.filter(card__in=cards)
        .values("card")
        .annotate(total=Sum("hours"))
        .values_list("card", "total")
    )
    for card in cards:
        left = card.hours - (used.get(card.pk) or 0)
        if left >= hours:
            break
    else:
        total_left = sum((card.hours - (used.get(card.pk) or 0) for card in cards), Decimal(0))
        raise field_error(
            "hours",
            _(
                "No valid card of %(organisation)s covers %(hours)s hours "
                "(%(left)s hours left in all). %(next_step)s"
            )
            % {
                "next_step": new_card_advice(by),
                "organisation": ticket.organisation,
                "hours": hours,
                "left": total_left.quantize(Decimal("0.01")),
            },
        )
    booking = HoursBooking.objects.create(
        card=card, ticket=ticket, consultant=by, on=on, hours=hours, note=note.strip()[:500]
    )
    record(ticket, by=by, field="hours", new=_("%(hours)s h on %(date)s") % {"hours": hours, "date": on})
    return booking


@transaction.atomic
def consultancy_request(*, by: User, on: date, hours: Decimal, purpose: str) -> ConsultancyRequest:
    """A coordinator asks for a consultant on a day (SPEC §7), no earlier than the booking lead
    time of the organisation's level allows — checked as the desk checks it."""
    if not by.is_customer or by.role != Role.COORDINATOR:
        raise PermissionDenied(_("Only your organisation's coordinators ask for a consultant."))
    if hours is None or hours <= 0:
        raise field_error("hours", _("Ask for a positive number of hours."))
    purpose = (purpose or "").strip()
    if not purpose:
        raise field_error("purpose", _("Say what the consultant is for."))
    contract = sla_selectors.contract_in_force(organisation_id=by.organisation_id, on=timezone.localdate())
    if contract is None:
        raise ValidationError(_("Your organisation has no contract in force; ask your account manager."))
    check_consultancy_date(service_level=contract.service_level, on=on)
    return ConsultancyRequest.objects.create(
        organisation_id=by.organisation_id, requested_by=by, on=on, hours=hours, purpose=purpose[:1000]
    )
