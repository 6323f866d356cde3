"""The portal and desk pages: tenancy on every URL, refusals as 4xx with a message, bounded
queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role, Subscription
from tickets import services
from tickets.models import Attachment, HoursBooking, HoursCard, Product, SavedView, Ticket
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, coordinator_ext):
    client.force_login(coordinator_ext)
    return client


@pytest.fixture
def staff_client(client, agent):
    client.force_login(agent)  # agent has TOTP: the middleware lets them through
    return client


def registration_data(**overrides):
    product = Product.objects.get(code="qixium-saas")
    data = {
        "kind": "incident",
        "product": product.pk,
        "module": product.modules.first().pk,
        "hosting": "cloud",
        "nature": "technical",
        "urgency": 1,
        "suggested_impact": 1,
        "title": "Inloggen faalt",
        "description": "Niemand kan inloggen.",
    }
    data.update(overrides)
    return data


# --- portal -------------------------------------------------------------------------------


def test_a_coordinator_registers_in_the_portal_and_sees_the_response_deadline(customer_client, monday):
    response = customer_client.post(
        reverse("portal:register"),
        registration_data(attachments=[SimpleUploadedFile("scherm.png", b"\x89PNG....")]),
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "portal:registered", args=[ticket.pk]
    )
    page = customer_client.get(response["Location"]).content.decode()
    assert ticket.reference in page and "23 Nov 2026, 11:00" in page
    assert ticket.attachments.get().original_name == "scherm.png"


def test_the_register_form_says_what_is_not_covered_before_anything_is_typed(customer_client):
    page = customer_client.get(reverse("portal:register")).content.decode()
    assert "Data problems" in page and "Data Manager Platform" in page


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"nature": "data"}, "not covered by support"),
        ({"product": 999999}, "Select a valid choice"),
        ({"nature": "functional", "product": "data-manager"}, "consultancy, not support"),
        ({"kind": "change"}, "Choose the type of change"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_bad_registrations_get_a_form_error_and_write_nothing(customer_client, overrides, field_text):
    if overrides.get("product") == "data-manager":
        dm = Product.objects.get(code="data-manager")
        overrides = dict(overrides, product=dm.pk, module=dm.modules.first().pk)
    response = customer_client.post(reverse("portal:register"), registration_data(**overrides))
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_oversized_attachment_gets_a_form_error_and_no_ticket(customer_client, settings):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 100
    response = customer_client.post(
        reverse("portal:register"),
        registration_data(attachments=[SimpleUploadedFile("dump.log", b"x" * 101)]),
    )
    assert response.status_code == 400 and "the limit is 100" in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_a_customer_user_cannot_open_the_register_form(client, customer_user_ext):
    client.force_login(customer_user_ext)
    assert client.get(reverse("portal:register")).status_code == 403


def test_the_customer_answers_confirms_and_sees_no_internal_notes(customer_client, coordinator_ext, agent):
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="unclear", question="Welke browser?")
    services.message_note_internal(ticket=ticket, by=agent, body="Geheime notitie")
    page = customer_client.get(reverse("portal:detail", args=[ticket.pk])).content.decode()
    assert "Welke browser?" in page and "Geheime notitie" not in page
    response = customer_client.post(reverse("portal:action", args=[ticket.pk, "message"]), {"body": "Edge"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"
    services.ticket_resolve(ticket=ticket, by=agent, resolution="Opgelost")
    ticket.refresh_from_db()
    response = customer_client.post(
        reverse("portal:action", args=[ticket.pk, "confirm"]), {"version": ticket.version}
    )
    ticket.refresh_from_db()
    assert response.status_code == 302 and ticket.status == "closed"


def test_an_invalid_transition_through_the_portal_is_a_409_with_the_reason(customer_client, coordinator_ext):
    ticket = register(coordinator_ext)
    response = customer_client.post(
        reverse("portal:action", args=[ticket.pk, "reopen"]), {"version": ticket.version, "reason": "?"}
    )
    assert (
        response.status_code == 409 and "You cannot reopen a ticket that is new" in response.content.decode()
    )


def test_an_unknown_action_is_a_404(customer_client, coordinator_ext):
    ticket = register(coordinator_ext)
    assert customer_client.post(reverse("portal:action", args=[ticket.pk, "delete"])).status_code == 404


def test_the_portal_list_shows_the_hours_left_after_a_card_or_a_booking_at_once(
    customer_client, coordinator_ext, consultant, django_capture_on_commit_callbacks
):
    def hours_left():
        page = customer_client.get(reverse("portal:home")).content.decode()
        return page.split("prepaid card: ", 1)[1].split(" ", 1)[0]

    assert hours_left() == "0.00"  # and cached
    with django_capture_on_commit_callbacks(execute=True):
        card = HoursCard.objects.create(
            organisation=coordinator_ext.organisation, hours=Decimal(10), purchased_on=date(2026, 1, 1)
        )
    assert hours_left() == "10.00"
    with django_capture_on_commit_callbacks(execute=True):
        HoursBooking.objects.create(
            card=card, ticket=register(coordinator_ext), consultant=consultant, on=date(2026, 2, 1), hours=3
        )
    assert hours_left() == "7.00"


def test_notification_preferences_are_saved(customer_client, coordinator_ext):
    response = customer_client.post(reverse("portal:preferences"), {"topics": ["ticket_update", "release"]})
    assert response.status_code == 302
    assert set(Subscription.objects.filter(user=coordinator_ext).values_list("topic", flat=True)) == {
        "ticket_update",
        "release",
    }
    customer_client.post(reverse("portal:preferences"), {"topics": ["news"]})
    assert list(Subscription.objects.filter(user=coordinator_ext).values_list("topic", flat=True)) == ["news"]


# --- tenancy ------------------------------------------------------------------------------


def test_another_organisations_ticket_and_attachment_are_404_on_every_portal_url(
    client, coordinator_ext, other_customer
):
    ticket = register(coordinator_ext, attachments=[SimpleUploadedFile("a.txt", b"geheim")])
    attachment = ticket.attachments.get()
    client.force_login(other_customer)
    for url in (
        reverse("portal:detail", args=[ticket.pk]),
        reverse("portal:registered", args=[ticket.pk]),
        reverse("portal:attachment", args=[attachment.pk]),
        reverse("desk:attachment", args=[attachment.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for name in ("message", "reprioritise", "confirm", "reopen"):
        assert (
            client.post(
                reverse("portal:action", args=[ticket.pk, name]), {"body": "x", "reason": "x", "priority": 1}
            ).status_code
            == 404
        )
    listing = client.get(reverse("portal:home")).content.decode()
    assert ticket.reference not in listing


def test_customers_get_403_on_every_desk_url(customer_client, coordinator_ext):
    ticket = register(coordinator_ext)
    for url in (
        reverse("desk:queue"),
        reverse("desk:detail", args=[ticket.pk]),
        reverse("desk:consultancy"),
        reverse("desk:approvals"),
        reverse("desk:coordinators", args=[coordinator_ext.organisation_id]),
    ):
        assert customer_client.get(url).status_code == 403, url
    assert (
        customer_client.post(
            reverse("desk:action", args=[ticket.pk, "classify"]), {"clarity": "clear"}
        ).status_code
        == 403
    )
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_attachments_of_internal_notes_are_hidden_from_customers(client, coordinator_ext, agent):
    ticket = register(coordinator_ext)
    note = services.message_note_internal(
        ticket=ticket, by=agent, body="log", attachments=[SimpleUploadedFile("intern.txt", b"intern")]
    )
    attachment = note.attachments.get()
    client.force_login(coordinator_ext)
    assert client.get(reverse("portal:attachment", args=[attachment.pk])).status_code == 404
    client.force_login(agent)
    response = client.get(reverse("desk:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"intern"
    assert response["Content-Disposition"].startswith("attachment;")


def test_staff_pages_need_a_login(client, coordinator_ext):
    ticket = register(coordinator_ext)
    assert client.get(reverse("desk:detail", args=[ticket.pk])).status_code == 302
    assert client.get(reverse("portal:attachment", args=[1])).status_code == 302


# --- desk ---------------------------------------------------------------------------------


def test_the_queue_sorts_by_the_nearest_deadline_and_filters(staff_client, agent, monday):
    low = register(coordinator_on("extended"), title="Laag", urgency=3, impact=3)  # 8 h
    high = register(coordinator_on("extended"), title="Hoog", urgency=1, impact=1)  # 2 h
    waiting = register(coordinator_on("extended"), title="Wacht", urgency=2, impact=2)
    services.ticket_classify(ticket=waiting, by=agent, clarity="unclear", question="?")
    services.ticket_assign(ticket=low, by=agent, assignee=agent)
    page = staff_client.get(reverse("desk:queue")).content.decode()
    assert page.index(high.reference) < page.index(low.reference) < page.index(waiting.reference)
    mine = staff_client.get(reverse("desk:queue"), {"assigned": "mine"}).content.decode()
    assert low.reference in mine and high.reference not in mine
    paused = staff_client.get(reverse("desk:queue"), {"sla": "waiting"}).content.decode()
    assert waiting.reference in paused and high.reference not in paused
    assert "business time left" in page


def test_a_cached_queue_row_follows_a_change_and_the_language(staff_client, agent, monday):
    # given a queue page rendered (and its rows cached) in English
    ticket = register(coordinator_on("extended"), title="Hoog", urgency=1, impact=1)
    assert "business time left" in staff_client.get(reverse("desk:queue")).content.decode()
    # when the ticket is assigned
    services.ticket_assign(ticket=ticket, by=agent, assignee=agent)
    # then the row shows it at once, and in Dutch when asked
    assert str(agent) in staff_client.get(reverse("desk:queue")).content.decode()
    dutch = staff_client.get(reverse("desk:queue"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "werktijd" in dutch and "business time left" not in dutch


def test_the_queue_filter_lists_a_new_organisation(staff_client, django_capture_on_commit_callbacks):
    from accounts.models import Organisation

    staff_client.get(reverse("desk:queue"))
    with django_capture_on_commit_callbacks(execute=True):
        Organisation.objects.create(name="Nieuwe klant BV")
    assert "Nieuwe klant BV" in staff_client.get(reverse("desk:queue")).content.decode()


def test_at_risk_and_breached_filters_follow_the_clock(staff_client, monday):
    ticket = register(coordinator_on("extended"), urgency=1, impact=1)  # due 11:00, at risk 10:30
    monday.move_to(ticket.at_risk_at)
    at_risk = staff_client.get(reverse("desk:queue"), {"sla": "at_risk"}).content.decode()
    assert ticket.reference in at_risk and "at risk" in at_risk
    monday.move_to(ticket.due_at.replace(minute=5))
    breached = staff_client.get(reverse("desk:queue"), {"sla": "breached"}).content.decode()
    assert ticket.reference in breached and "late by" in breached


def test_a_saved_view_keeps_the_filters_and_the_queue_lists_it_at_once(
    staff_client, agent, django_capture_on_commit_callbacks
):
    assert "Mijn risico" not in staff_client.get(reverse("desk:queue")).content.decode()  # cached: none
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("desk:view_save"), {"name": "Mijn risico", "query": "assigned=mine&sla=at_risk"}
        )
    view = SavedView.objects.get(user=agent)
    assert view.query == "assigned=mine&sla=at_risk"
    assert "Mijn risico" in staff_client.get(reverse("desk:queue")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("desk:view_delete", args=[view.pk]))
    assert "Mijn risico" not in staff_client.get(reverse("desk:queue")).content.decode()


def test_the_desk_detail_shows_every_allowed_action_and_the_clock_explanation(staff_client, coordinator_ext):
    ticket = register(coordinator_ext)
    page = staff_client.get(reverse("desk:detail", args=[ticket.pk])).content.decode()
    for form_id in (
        "form-classify",
        "form-question",
        "form-priority",
        "form-reply",
        "form-assign",
        "form-close",
    ):
        assert form_id in page
    assert "form-resolve" not in page  # not before classification
    assert "Why: Response clock" in page


def test_a_concurrent_edit_through_the_desk_gets_a_409_and_keeps_the_first(
    client, coordinator_ext, agent, make_staff
):
    ticket = register(coordinator_ext)
    seen = ticket.version
    services.ticket_priority_set(ticket=ticket, by=agent, impact=3, urgency=3, expected_version=seen)
    client.force_login(make_staff(Role.AGENT))
    response = client.post(
        reverse("desk:action", args=[ticket.pk, "priority"]), {"version": seen, "impact": 1, "urgency": 1}
    )
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.impact, ticket.urgency) == (3, 3)


def test_an_agent_cannot_approve_a_normal_change_through_the_desk(staff_client, coordinator_ext):
    ticket = register(coordinator_ext, kind="change", change_type="normal")
    response = staff_client.post(
        reverse("desk:action", args=[ticket.pk, "approve"]), {"version": ticket.version}
    )
    assert response.status_code == 403 and "support manager" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "awaiting_approval"
    assert staff_client.get(reverse("desk:approvals")).status_code == 403


def test_a_manager_approves_on_the_approvals_page(client, manager, coordinator_ext):
    ticket = register(coordinator_ext, kind="change", change_type="normal")
    client.force_login(manager)
    assert ticket.reference in client.get(reverse("desk:approvals")).content.decode()
    response = client.post(
        reverse("desk:action", args=[ticket.pk, "approve"]),
        {"version": ticket.version, "next": reverse("desk:approvals"), "note": "ok"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("desk:approvals")
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_desk_refuses_to_redirect_elsewhere(staff_client, coordinator_ext):
    ticket = register(coordinator_ext)
    response = staff_client.post(
        reverse("desk:action", args=[ticket.pk, "note"]),
        {"body": "x", "channel": "portal", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("desk:detail", args=[ticket.pk])


def test_consultancy_booked_too_early_is_refused_on_the_page(
    client, coordinator_def, agent, consultant, monday
):
    HoursCard.objects.create(
        organisation=coordinator_def.organisation, hours=Decimal(10), purchased_on=date(2026, 1, 1)
    )
    ticket = services.ticket_classify(ticket=register(coordinator_def), by=agent, clarity="clear")
    ticket = services.ticket_consultancy_agree(ticket=ticket, by=agent, agreed=True, hours=Decimal(4))
    client.force_login(consultant)
    assert ticket.reference in client.get(reverse("desk:consultancy")).content.decode()
    response = client.post(
        reverse("desk:action", args=[ticket.pk, "consultancy_plan"]),
        {"version": ticket.version, "consultant": consultant.pk, "on": "2026-11-30"},
    )
    assert response.status_code == 400 and "Too early" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.consultancy_date is None


def test_a_manager_assigns_coordinators_within_the_maximum(client, manager, coordinator_def):
    from accounts.tests.factories import UserFactory

    organisation = coordinator_def.organisation
    second, third = (UserFactory(role=Role.CUSTOMER_USER, organisation=organisation) for _ in range(2))
    client.force_login(manager)
    assert (
        client.post(
            reverse("desk:coordinators", args=[organisation.pk]), {"user": second.pk, "make": "yes"}
        ).status_code
        == 302
    )
    response = client.post(
        reverse("desk:coordinators", args=[organisation.pk]), {"user": third.pk, "make": "yes"}
    )
    assert response.status_code == 400 and "maximum on the Default level" in response.content.decode()


# --- bounded queries ------------------------------------------------------------------------


def _fill(coordinator, agent, count):
    for index in range(count):
        ticket = register(coordinator, title=f"Ticket {index}", urgency=1 + index % 3)
        if index % 3 == 0:
            services.ticket_classify(ticket=ticket, by=agent, clarity="unclear", question="?")


@pytest.mark.parametrize("count", [3, 30])
def test_the_portal_list_makes_a_bounded_number_of_queries(
    client, coordinator_ext, agent, count, django_assert_max_num_queries, django_assert_num_queries
):
    _fill(coordinator_ext, agent, count)
    client.force_login(coordinator_ext)
    client.get(reverse("portal:home"))  # warm the process's calendar cache
    cache.clear()  # every row rendered afresh (and the session read from the database)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("portal:home")).status_code == 200
    # the user with the organisation, the count (exact below 1,000 tickets), the page's stamps
    with django_assert_num_queries(3):
        assert client.get(reverse("portal:home")).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_the_desk_queue_makes_a_bounded_number_of_queries(
    staff_client, coordinator_ext, agent, count, django_assert_max_num_queries, django_assert_num_queries
):
    _fill(coordinator_ext, agent, count)
    staff_client.get(reverse("desk:queue"))
    cache.clear()  # every row, the filter and bulk forms rendered afresh (the session from the database)
    with django_assert_max_num_queries(11):
        assert staff_client.get(reverse("desk:queue"), {"status": "all"}).status_code == 200
    with django_assert_num_queries(3):  # the user, the count, the page's stamps; the rest cached
        assert staff_client.get(reverse("desk:queue"), {"status": "all"}).status_code == 200


@pytest.mark.parametrize("messages", [1, 20])
def test_the_detail_pages_make_a_bounded_number_of_queries(
    client, coordinator_ext, agent, messages, django_assert_max_num_queries
):
    ticket = register(coordinator_ext)
    for index in range(messages):
        services.message_reply_public(
            ticket=ticket,
            by=agent,
            body=f"Bericht {index}",
            attachments=[SimpleUploadedFile(f"{index}.txt", b"x")],
        )
        services.message_note_internal(ticket=ticket, by=agent, body=f"Notitie {index}")
    client.force_login(agent)
    client.get(reverse("desk:detail", args=[ticket.pk]))
    with django_assert_max_num_queries(32):
        assert client.get(reverse("desk:detail", args=[ticket.pk])).status_code == 200
    client.force_login(coordinator_ext)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("portal:detail", args=[ticket.pk])).status_code == 200
