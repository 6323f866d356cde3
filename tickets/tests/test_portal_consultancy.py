"""Issue 14: customers see their hours cards and ask for a consultant, the lead time checked as
the desk checks it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Role
from tickets import services
from tickets.models import ConsultancyRequest, HoursBooking, HoursCard
from tickets.tests.factories import register

pytestmark = pytest.mark.django_db


def _card(organisation, hours="10"):
    return HoursCard.objects.create(
        organisation=organisation, hours=Decimal(hours), purchased_on=date(2026, 1, 1), reference="SK-1"
    )


def test_the_portal_shows_the_cards_balance_and_bookings_of_one_organisation_only(
    client, coordinator_ext, other_customer, consultant, monday
):
    card = _card(coordinator_ext.organisation)
    ticket = register(coordinator_ext)
    HoursBooking.objects.create(
        card=card,
        ticket=ticket,
        consultant=consultant,
        on=date(2026, 11, 2),
        hours=Decimal("3"),
        note="Migratie",
    )
    _card(other_customer.organisation, hours="99")
    ConsultancyRequest.objects.create(
        organisation=other_customer.organisation,
        requested_by=other_customer,
        on=date(2027, 1, 4),
        hours=Decimal(2),
        purpose="Geheim project",
    )
    client.force_login(coordinator_ext)
    home = client.get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:consultancy")}"' in home  # in the portal navigation
    page = client.get(reverse("portal:consultancy")).content.decode()
    assert '<strong id="hours-balance">7.00</strong>' in page
    assert "Migratie" in page and ticket.reference in page and "SK-1" in page
    assert "99" not in page and "Geheim project" not in page  # another tenant's card and request


def test_a_coordinator_asks_for_a_consultant_after_the_lead_time(client, coordinator_ext, monday):
    """Document 000 §1.2.2: "Consultant Boektijd (min dagen) 21 7" — on Extended 7 days ahead."""
    client.force_login(coordinator_ext)
    response = client.post(
        reverse("portal:consultancy"), {"on": "2026-11-30", "hours": "4", "purpose": "Upgrade begeleiden"}
    )
    assert response.status_code == 302
    request = ConsultancyRequest.objects.get()
    assert (request.organisation, request.requested_by, request.on, request.hours) == (
        coordinator_ext.organisation,
        coordinator_ext,
        date(2026, 11, 30),
        Decimal(4),
    )
    assert "Upgrade begeleiden" in client.get(reverse("portal:consultancy")).content.decode()


def test_a_request_inside_the_lead_time_is_refused_as_the_desk_refuses_it(client, coordinator_def, monday):
    """Document 000 §1.2.2: "Consultant Boektijd (min dagen) 21 7" — on Default 21 days ahead."""
    client.force_login(coordinator_def)
    response = client.post(
        reverse("portal:consultancy"), {"on": "2026-12-01", "hours": "4", "purpose": "Te vroeg"}
    )
    assert response.status_code == 200
    message = response.context["form"].errors["on"][0]
    assert "21 days" in message and "14 Dec 2026" in message
    assert not ConsultancyRequest.objects.exists()
    with pytest.raises(ValidationError) as refused:
        services.consultancy_request(by=coordinator_def, on=date(2026, 12, 13), hours=Decimal(1), purpose="x")
    assert "21 days" in refused.value.message_dict["on"][0]
    services.consultancy_request(by=coordinator_def, on=date(2026, 12, 14), hours=Decimal(1), purpose="x")


def test_only_coordinators_ask_for_a_consultant(client, customer_user_ext, monday):
    with pytest.raises(PermissionDenied):
        services.consultancy_request(
            by=customer_user_ext, on=date(2027, 1, 4), hours=Decimal(1), purpose="Graag hulp"
        )
    client.force_login(customer_user_ext)
    page = client.get(reverse("portal:consultancy"))
    assert page.status_code == 200 and 'id="consultancy-request"' not in page.content.decode()
    response = client.post(reverse("portal:consultancy"), {"on": "2027-01-04", "hours": "1", "purpose": "x"})
    assert response.status_code == 403
    assert not ConsultancyRequest.objects.exists()


def test_bad_hours_are_a_form_error(client, coordinator_ext, monday):
    client.force_login(coordinator_ext)
    response = client.post(reverse("portal:consultancy"), {"on": "2027-01-04", "hours": "-1", "purpose": " "})
    assert response.status_code == 200
    assert {"hours", "purpose"} <= response.context["form"].errors.keys()


def test_the_desk_sees_the_customers_requests(client, coordinator_ext, make_staff, monday):
    from conftest import login_with_second_factor

    services.consultancy_request(by=coordinator_ext, on=date(2027, 1, 4), hours=Decimal(2), purpose="Audit")
    consultant = make_staff(Role.CONSULTANT)
    login_with_second_factor(client, consultant)
    page = client.get(reverse("desk:consultancy")).content.decode()
    assert "Audit" in page and str(coordinator_ext.organisation) in page
