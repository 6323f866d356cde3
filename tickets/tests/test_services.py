"""The workflow services against the real database: transitions, RACI, clocks, conflicts."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Notification, Role, Subscription
from accounts.tests.factories import UserFactory
from sla.models import Clock, ClockEvent
from tickets import services
from tickets.choices import RaciRole
from tickets.models import Attachment, BugReference, HoursCard, Message, RaciRule, Ticket, TicketChange
from tickets.tests.conftest import AMS
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db


def clocks(ticket):
    return {clock.kind: clock for clock in Clock.objects.filter(ticket=ticket)}


def ams(*args):
    return datetime(*args, tzinfo=AMS)


# --- registration ---------------------------------------------------------------------------


def test_registration_starts_the_clocks_and_binds_the_response_deadline(coordinator_ext, monday):
    ticket = register(coordinator_ext, urgency=1, impact=1)  # Extended, High: 2 business hours
    assert ticket.priority == 1 and ticket.status == "new" and ticket.step == "register_ticket"
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 11, 0)
    assert ticket.due_at == ams(2026, 11, 23, 11, 0)  # the queue's column follows the clock
    assert ticket.suggested_impact == 1 and ticket.channel == "portal"


def test_a_customer_user_who_is_not_a_coordinator_cannot_register(customer_user_ext):
    with pytest.raises(PermissionDenied, match="coordinators"):
        register(customer_user_ext)
    assert not Ticket.objects.exists()


def test_data_problems_are_refused_at_the_door_with_consultancy_offered(coordinator_ext):
    with pytest.raises(ValidationError) as refused:
        register(coordinator_ext, nature="data")
    assert "consultancy" in refused.value.message_dict["nature"][0]
    assert not Ticket.objects.exists()


def test_functional_problems_on_the_data_manager_platform_are_consultancy(coordinator_ext):
    with pytest.raises(ValidationError) as refused:
        register(coordinator_ext, nature="functional", product_code="data-manager")
    assert "Data Manager Platform" in refused.value.message_dict["nature"][0]
    # technical problems on it, and functional ones on the SaaS platform, are support
    assert register(coordinator_ext, nature="technical", product_code="data-manager").pk
    assert register(coordinator_ext, nature="functional", product_code="qixium-saas").pk


def test_a_module_of_another_product_is_refused(coordinator_ext):
    from tickets.models import Module, Product

    with pytest.raises(ValidationError) as refused:
        services.ticket_register(
            by=coordinator_ext,
            kind="incident",
            title="x",
            description="y",
            product=Product.objects.get(code="qixium-saas"),
            module=Module.objects.get(code="genws"),
            hosting="cloud",
            nature="technical",
            urgency=2,
            suggested_impact=2,
        )
    assert "module" in refused.value.message_dict


def test_a_product_no_longer_offered_is_refused(coordinator_ext):
    with pytest.raises(ValidationError, match="no longer supported"):
        register(coordinator_ext, product_code="room-booker")


@pytest.mark.parametrize(("level", "maximum"), [("default", 2), ("extended", 4)])
def test_the_level_limits_the_number_of_coordinators(level, maximum, manager):
    first = coordinator_on(level)
    organisation = first.organisation
    for _ in range(maximum - 1):
        user = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
        services.organisation_coordinator_assign(user=user, by=manager)
    one_too_many = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
    with pytest.raises(ValidationError, match=f"already has {maximum} coordinators"):
        services.organisation_coordinator_assign(user=one_too_many, by=manager)
    one_too_many.refresh_from_db()
    assert one_too_many.role == Role.CUSTOMER_USER


@pytest.mark.parametrize(("level", "maximum"), [("default", 1), ("extended", 3)])
def test_the_coordinator_limit_is_that_of_the_policy_version_in_force(level, maximum, manager):
    """Document 000 §1.2.2 "Aantal gebruikers om calls te registreren (als coördinator/dispatcher)":
    1 (Default) and 3 (Extended); document 001 §1.2.2 says "Max 2" and "Max 4" from 01/03/2023.
    In 2022 the earlier version is in force, so its limit applies."""
    with time_machine.travel(datetime(2022, 6, 1, 12, tzinfo=AMS), tick=False):
        first = coordinator_on(level)
        organisation = first.organisation
        for _ in range(maximum - 1):
            services.organisation_coordinator_assign(
                user=UserFactory(role=Role.CUSTOMER_USER, organisation=organisation), by=manager
            )
        one_too_many = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
        with pytest.raises(ValidationError, match=f"already has {maximum} coordinators"):
            services.organisation_coordinator_assign(user=one_too_many, by=manager)
    with time_machine.travel(datetime(2023, 3, 1, 9, tzinfo=AMS), tick=False):
        # then: from 1 March 2023 document 001 allows one more
        services.organisation_coordinator_assign(user=one_too_many, by=manager)
    one_too_many.refresh_from_db()
    assert one_too_many.role == Role.COORDINATOR


def test_only_a_manager_assigns_coordinators(agent, customer_user_ext):
    with pytest.raises(PermissionDenied):
        services.organisation_coordinator_assign(user=customer_user_ext, by=agent)


# --- classification, questions, answers ------------------------------------------------------


# SPEC §2 (Business-time conventions): "The response clock stops at the first public message of
# support staff to the customer - an answer or a question ("unclear" at step 3, or later) both
# count as the response." The documents: 001 §2 step 3, "Onduidelijk: we kunnen de oorzaak niet
# vaststellen en hebben meer informatie nodig", and 001 §5.3, the response times "specificeren
# de tijd om te beginnen met het onderzoeken van het probleem".


def test_unclear_classification_asks_the_customer_which_is_the_response_and_pauses_resolution(
    coordinator_ext, agent, monday
):
    """Document 001 §2, step 3 "Classificeer Ticket": "Onduidelijk: we kunnen de oorzaak niet
    vaststellen en hebben meer informatie nodig" - asking for it is support's response, which
    §5.3 says the response time measures: "de tijd om te beginnen met het onderzoeken van het
    probleem". The resolution clock waits for the customer."""
    ticket = register(coordinator_ext)  # Extended, High: response due 11:00
    monday.move_to(ams(2026, 11, 23, 9, 30))
    # when
    ticket = services.ticket_classify(
        ticket=ticket, by=agent, clarity="unclear", question="Welke browser?", expected_version=ticket.version
    )
    # then
    assert ticket.status == "waiting_on_customer" and ticket.step == "classify"
    response, resolution = clocks(ticket)["response"], clocks(ticket)["resolution"]
    assert response.state == "stopped" and response.stopped_at == ams(2026, 11, 23, 9, 30)
    assert response.consumed_seconds == 1800 <= response.target_seconds  # met
    assert ClockEvent.objects.filter(clock=response, action="stop").get().reason == "Question to the customer"
    assert resolution.state == "paused" and resolution.consumed_seconds == 1800
    assert ticket.first_response_at == ams(2026, 11, 23, 9, 30)
    assert ticket.due_at is None  # nothing runs while the customer is asked
    assert Message.objects.get(ticket=ticket).kind == "question"


def test_a_question_after_the_response_target_is_a_late_response(coordinator_ext, agent, monday):
    """Document 001 §1.2.3 "Reactietijd": Extended, Hoog, 2 hours; SPEC §2: a question counts as
    the response. Asked at 11:30 on a ticket due 11:00, it stops the response clock breached, the
    breach at the deadline."""
    ticket = register(coordinator_ext)
    monday.move_to(ams(2026, 11, 23, 11, 30))
    services.ticket_question_ask(ticket=ticket, by=agent, question="Welke foutmelding?")
    response = clocks(ticket)["response"]
    assert response.state == "stopped" and response.consumed_seconds == 9000 > response.target_seconds
    breach = response.transitions.get(kind="breached")
    assert breach.crossed_at == ams(2026, 11, 23, 11, 0)
    assert clocks(ticket)["resolution"].state == "paused"


def test_the_customers_answer_resumes_the_resolution_clock_and_moves_its_deadline(
    coordinator_ext, agent, monday
):
    """SPEC §2: "While a ticket waits for the customer the resolution clock pauses; it resumes
    when the customer answers". Extended, Hoog incident: "Incident Oplostijd" 20 days of 9
    business hours (document 001 §1.2.3)."""
    ticket = register(coordinator_ext)  # resolution due Monday 21 December 09:00
    assert clocks(ticket)["resolution"].due_at == ams(2026, 12, 21, 9, 0)
    monday.move_to(ams(2026, 11, 23, 9, 30))
    services.ticket_classify(ticket=ticket, by=agent, clarity="unclear", question="Welke browser?")
    monday.move_to(ams(2026, 11, 23, 13, 0))  # 3.5 h paused
    services.message_customer(ticket=ticket, by=coordinator_ext, body="Firefox 140")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert clocks(ticket)["response"].state == "stopped"  # answered by the question
    assert clocks(ticket)["resolution"].due_at == ams(2026, 12, 21, 12, 30)
    assert ticket.due_at == ams(2026, 12, 21, 12, 30)


def test_an_unclear_classification_without_a_question_is_refused(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    with pytest.raises(ValidationError) as refused:
        services.ticket_classify(ticket=ticket, by=agent, clarity="unclear")
    assert "question" in refused.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.version == 1


def test_a_customer_cannot_classify(coordinator_ext):
    ticket = register(coordinator_ext)
    with pytest.raises(PermissionDenied, match="Classify"):
        services.ticket_classify(ticket=ticket, by=coordinator_ext, clarity="clear")


def test_the_first_public_message_stops_the_response_clock_and_later_ones_leave_it(
    coordinator_ext, agent, monday
):
    """SPEC §2: "The response clock stops at the first public message of support staff to the
    customer"; a later question or reply changes nothing of it."""
    ticket = register(coordinator_ext)
    monday.move_to(ams(2026, 11, 23, 10, 0))
    services.message_reply_public(ticket=ticket, by=agent, body="We kijken ernaar.")
    monday.move_to(ams(2026, 11, 23, 10, 30))
    services.ticket_question_ask(ticket=ticket, by=agent, question="Sinds wanneer?")
    services.message_customer(ticket=ticket, by=coordinator_ext, body="Sinds gisteren")
    services.message_reply_public(ticket=ticket, by=agent, body="Dank u.")
    response = clocks(ticket)["response"]
    assert response.state == "stopped" and response.stopped_at == ams(2026, 11, 23, 10, 0)
    actions = ClockEvent.objects.filter(clock=response).values_list("action", flat=True)
    assert list(actions) == ["start", "stop"]
    ticket.refresh_from_db()
    assert ticket.first_response_at == ams(2026, 11, 23, 10, 0)
    assert clocks(ticket)["resolution"].state == "running"
    assert ticket.due_at == clocks(ticket)["resolution"].due_at  # the next deadline in the queue


def test_a_phone_call_is_a_note_and_never_touches_a_clock(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    events = ClockEvent.objects.count()
    note = services.message_note_internal(ticket=ticket, by=agent, body="Klant belde", channel="phone")
    assert note.kind == "note" and note.channel == "phone"
    assert ClockEvent.objects.count() == events and Ticket.objects.count() == 1


def test_customers_never_see_internal_notes(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    services.message_note_internal(ticket=ticket, by=agent, body="intern")
    services.message_reply_public(ticket=ticket, by=agent, body="publiek")
    assert [m.body for m in Message.objects.visible_to(coordinator_ext)] == ["publiek"]
    assert Message.objects.visible_to(agent).count() == 2


# --- priority ----------------------------------------------------------------------------------


def test_impact_and_urgency_set_the_priority_by_the_matrix_and_recompute_the_deadline(
    coordinator_ext, agent, monday
):
    ticket = register(coordinator_ext, urgency=1, impact=1)  # High, due 11:00
    ticket = services.ticket_priority_set(ticket=ticket, by=agent, impact=2, urgency=2)  # Normal: 4 h
    assert ticket.priority == 2 and not ticket.priority_overridden
    assert clocks(ticket)["response"].due_at == ams(2026, 11, 23, 13, 0)
    assert ticket.due_at == ams(2026, 11, 23, 13, 0)
    change = TicketChange.objects.get(ticket=ticket, field="priority")
    assert (change.old, change.new, change.by) == ("High", "Normal", agent)


def test_overriding_the_matrix_needs_a_reason(coordinator_ext, agent):
    ticket = register(coordinator_ext, urgency=3, impact=3)
    with pytest.raises(ValidationError) as refused:
        services.ticket_priority_set(ticket=ticket, by=agent, impact=3, urgency=3, priority=1)
    assert "reason" in refused.value.message_dict
    ticket = services.ticket_priority_set(
        ticket=ticket, by=agent, impact=3, urgency=3, priority=1, reason="Koppeling met de gemeente ligt stil"
    )
    assert ticket.priority == 1 and ticket.priority_overridden


def test_the_customer_asks_to_reprioritise_and_support_decides_both_are_kept(coordinator_ext, agent):
    ticket = register(coordinator_ext, urgency=3, impact=3)
    request = services.reprioritisation_request(
        ticket=ticket, by=coordinator_ext, priority=1, reason="Deadline vrijdag"
    )
    with pytest.raises(ValidationError, match="already waiting"):
        services.reprioritisation_request(ticket=ticket, by=coordinator_ext, priority=2, reason="nog eens")
    services.reprioritisation_decide(request=request, by=agent, accept=True)
    ticket.refresh_from_db()
    request.refresh_from_db()
    assert ticket.priority == 1 and "Deadline vrijdag" in ticket.priority_reason
    assert request.status == "approved" and request.current_priority == 3 and request.decided_by == agent


# --- transitions and conflicts ------------------------------------------------------------------


def test_an_invalid_transition_is_refused_and_writes_nothing(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    with pytest.raises(ValidationError) as refused:
        services.ticket_resolve(ticket=ticket, by=agent, resolution="klaar")  # still new
    assert refused.value.code == "invalid_transition"
    with pytest.raises(ValidationError):
        services.ticket_confirm(ticket=ticket, by=coordinator_ext)
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.version == 1 and not Message.objects.exists()


def test_the_second_of_two_concurrent_edits_gets_a_conflict_not_an_overwrite(
    coordinator_ext, agent, make_staff
):
    ticket = register(coordinator_ext)
    seen = ticket.version
    colleague = make_staff(Role.AGENT)
    services.ticket_priority_set(ticket=ticket, by=agent, impact=3, urgency=3, expected_version=seen)
    with pytest.raises(services.TicketConflict, match="changed by someone else"):
        services.ticket_priority_set(ticket=ticket, by=colleague, impact=1, urgency=2, expected_version=seen)
    ticket.refresh_from_db()
    assert (ticket.impact, ticket.urgency, ticket.version) == (3, 3, seen + 1)
    assert not TicketChange.objects.filter(by=colleague).exists()


def test_the_conditional_update_refuses_a_stale_write_even_without_the_row_lock(coordinator_ext, agent):
    from tickets.services._common import commit, displays, snapshot

    ticket = register(coordinator_ext)
    stale = Ticket.objects.get(pk=ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(version=5)  # someone else saved meanwhile
    before, shown = snapshot(stale), displays(stale)
    stale.title = "overschreven"
    with pytest.raises(services.TicketConflict):
        commit(stale, by=agent, before=before, before_display=shown)
    assert Ticket.objects.get(pk=ticket.pk).title == "Kan niet inloggen"


def _open(ticket, agent):
    return services.ticket_classify(ticket=ticket, by=agent, clarity="clear")


def test_bug_registration_links_the_reference_and_its_status_moves(coordinator_ext, agent):
    ticket = _open(register(coordinator_ext), agent)
    bug = services.bug_register(ticket=ticket, by=agent, reference="PBI-4711", url="https://dev.example/4711")
    services.bug_status_set(bug=bug, by=agent, status="in_test")
    ticket.refresh_from_db()
    assert ticket.problem_type == "bug" and ticket.step == "test_bug"
    assert BugReference.objects.get().status == "in_test"
    with pytest.raises(ValidationError, match="already linked"):
        services.bug_register(ticket=ticket, by=agent, reference="pbi-4711")


def test_resolution_stops_the_clock_and_the_customers_confirmation_closes(coordinator_ext, agent):
    ticket = _open(register(coordinator_ext), agent)
    ticket = services.ticket_resolve(ticket=ticket, by=agent, resolution="Cache geleegd")
    assert ticket.status == "resolved" and {c.state for c in clocks(ticket).values()} == {"stopped"}
    ticket = services.ticket_confirm(ticket=ticket, by=coordinator_ext)
    assert ticket.status == "closed" and ticket.step == "update_ticket" and ticket.closed_at


def test_reopening_within_the_window_restarts_the_resolution_clock(coordinator_ext, agent, settings):
    settings.SLA_REOPEN_DAYS = 14
    ticket = _open(register(coordinator_ext), agent)
    ticket = services.ticket_resolve(ticket=ticket, by=agent, resolution="Cache geleegd")
    ticket = services.ticket_reopen(ticket=ticket, by=coordinator_ext, reason="Het is terug")
    assert ticket.status == "open" and clocks(ticket)["resolution"].state == "running"
    assert clocks(ticket)["response"].state == "stopped"


def test_reopening_after_the_window_is_refused(coordinator_ext, agent, settings):
    settings.SLA_REOPEN_DAYS = 14
    ticket = _open(register(coordinator_ext), agent)
    ticket = services.ticket_resolve(ticket=ticket, by=agent, resolution="Cache geleegd")
    with (
        time_machine.travel(ticket.resolved_at + timedelta(days=15)),
        pytest.raises(ValidationError, match="within 14 days"),
    ):
        services.ticket_reopen(ticket=ticket, by=coordinator_ext, reason="Het is terug")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_unconfirmed_resolutions_close_after_the_window(coordinator_ext, agent, settings):
    settings.SLA_REOPEN_DAYS = 14
    ticket = services.ticket_resolve(
        ticket=_open(register(coordinator_ext), agent), by=agent, resolution="ok"
    )
    assert services.tickets_close_unconfirmed() == 0
    assert services.tickets_close_unconfirmed(now=ticket.resolved_at + timedelta(days=15)) == 1
    ticket.refresh_from_db()
    assert ticket.status == "closed" and "14 days" in ticket.close_reason


def test_assignment_and_reassignment_are_in_the_history(coordinator_ext, agent, make_staff):
    ticket = register(coordinator_ext)
    other = make_staff(Role.AGENT)
    services.ticket_assign(ticket=ticket, by=agent, assignee=agent)
    services.ticket_assign(ticket=ticket, by=agent, assignee=other)
    assert list(TicketChange.objects.filter(field="assignee").values_list("old", "new")) == [
        ("", str(agent)),
        (str(agent), str(other)),
    ]
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, by=agent, assignee=coordinator_ext)


def test_support_closes_with_a_reason_and_open_clocks_stop(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    with pytest.raises(ValidationError):
        services.ticket_close(ticket=ticket, by=agent, reason=" ")
    ticket = services.ticket_close(ticket=ticket, by=agent, reason="Dubbel met T-000001")
    assert ticket.status == "closed" and {c.state for c in clocks(ticket).values()} == {"stopped"}


# --- changes ------------------------------------------------------------------------------------


def test_a_normal_change_waits_for_a_managers_approval(coordinator_ext, agent, manager):
    ticket = register(coordinator_ext, kind="change", change_type="normal")
    assert ticket.status == "awaiting_approval"
    with pytest.raises(ValidationError):
        services.ticket_classify(ticket=ticket, by=agent, clarity="clear")  # no work before approval
    with pytest.raises(PermissionDenied, match="support manager"):
        services.change_approve(ticket=ticket, by=agent)
    ticket = services.change_approve(ticket=ticket, by=manager, note="Akkoord")
    assert ticket.status == "new" and ticket.approvals.get().status == "approved"


def test_a_rejected_change_is_closed_with_the_reason(coordinator_ext, manager):
    ticket = register(coordinator_ext, kind="change", change_type="normal")
    ticket = services.change_reject(ticket=ticket, by=manager, reason="Past niet in de roadmap")
    assert ticket.status == "closed" and "roadmap" in ticket.close_reason
    assert {c.state for c in clocks(ticket).values()} == {"stopped"}
    assert Message.objects.visible_to(coordinator_ext).get().body.endswith("Past niet in de roadmap")


def test_an_urgent_change_takes_the_high_priority_path_and_a_standard_one_is_preapproved(coordinator_ext):
    urgent = register(coordinator_ext, kind="change", change_type="urgent", urgency=3, impact=3)
    standard = register(coordinator_ext, kind="change", change_type="standard")
    assert urgent.priority == 1 and urgent.priority_overridden and urgent.status == "new"
    assert standard.status == "new" and not standard.approvals.exists()


# --- consultancy --------------------------------------------------------------------------------


def _consultancy_ticket(coordinator, agent, manager, hours="8"):
    HoursCard.objects.create(
        organisation=coordinator.organisation, hours=Decimal(hours), purchased_on=date(2026, 1, 1)
    )
    ticket = _open(register(coordinator, nature="technical"), agent)
    return services.ticket_consultancy_agree(ticket=ticket, by=agent, agreed=True, hours=Decimal("4"))


def test_agreeing_consultancy_needs_hours_left_on_the_card(coordinator_ext, agent):
    HoursCard.objects.create(
        organisation=coordinator_ext.organisation, hours=Decimal(2), purchased_on=date(2026, 1, 1)
    )
    ticket = _open(register(coordinator_ext), agent)
    with pytest.raises(ValidationError, match=r"2\.00 hours left"):
        services.ticket_consultancy_agree(ticket=ticket, by=agent, agreed=True, hours=Decimal(4))
    ticket = services.ticket_consultancy_agree(ticket=ticket, by=agent, agreed=False)
    assert ticket.consultancy == "declined"


def test_planning_a_consultant_earlier_than_the_lead_time_is_refused(
    coordinator_def, agent, manager, consultant, monday
):
    ticket = _consultancy_ticket(coordinator_def, agent, manager)
    with pytest.raises(ValidationError) as refused:
        services.consultancy_plan(ticket=ticket, by=consultant, consultant=consultant, on=date(2026, 12, 1))
    message = refused.value.message_dict["on"][0]
    assert "21 days" in message and "14 Dec 2026" in message
    ticket = services.consultancy_plan(
        ticket=ticket, by=consultant, consultant=consultant, on=date(2026, 12, 14)
    )
    assert ticket.consultancy_date == date(2026, 12, 14) and ticket.step == "plan_consultancy"


def test_an_agent_cannot_plan_consultancy_the_consultant_is_responsible(
    coordinator_ext, agent, manager, consultant
):
    ticket = _consultancy_ticket(coordinator_ext, agent, manager)
    with pytest.raises(PermissionDenied, match="RACI: I"):
        services.consultancy_plan(
            ticket=ticket, by=agent, consultant=consultant, on=timezone.localdate() + timedelta(days=30)
        )


def test_booking_hours_draws_from_the_card_and_cannot_overdraw_it(
    coordinator_ext, agent, manager, consultant
):
    ticket = _consultancy_ticket(coordinator_ext, agent, manager, hours="5")
    services.hours_book(ticket=ticket, by=consultant, hours=Decimal(3), on=timezone.localdate())
    with pytest.raises(ValidationError, match=r"2\.00 hours left"):
        services.hours_book(ticket=ticket, by=consultant, hours=Decimal(3), on=timezone.localdate())
    from tickets.selectors import hours_balance

    assert hours_balance(organisation_id=coordinator_ext.organisation_id) == Decimal(2)


# --- the RACI table is data ---------------------------------------------------------------------


def test_changing_the_raci_table_changes_who_may_classify(coordinator_ext, agent, consultant):
    ticket = register(coordinator_ext)
    with pytest.raises(PermissionDenied):
        services.ticket_classify(ticket=ticket, by=consultant, clarity="clear")
    RaciRule.objects.filter(step="classify", role=RaciRole.CONSULTANT).update(letter="R")
    RaciRule.objects.filter(step="classify", role=RaciRole.SUPPORT).update(letter="I")
    with pytest.raises(PermissionDenied):
        services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    assert services.ticket_classify(ticket=ticket, by=consultant, clarity="clear").status == "open"


def test_steps_notify_their_informed_roles_and_customers_who_chose_ticket_updates(
    coordinator_ext, agent, consultant
):
    ticket = register(coordinator_ext)
    services.ticket_assign(ticket=ticket, by=agent, assignee=agent)
    Ticket.objects.filter(pk=ticket.pk).update(consultant=consultant)
    Notification.objects.all().delete()
    Subscription.objects.filter(user=coordinator_ext, topic="ticket_update").delete()  # switched off
    services.ticket_classify(ticket=ticket, by=agent, clarity="clear")  # C customer, I consultant
    assert list(Notification.objects.values_list("recipient", flat=True)) == [consultant.pk]
    Subscription.objects.create(user=coordinator_ext, topic="ticket_update")
    services.message_reply_public(ticket=ticket, by=agent, body="We zijn bezig")
    assert Notification.objects.filter(recipient=coordinator_ext, body="We zijn bezig").exists()


# --- attachments ----------------------------------------------------------------------------------


def test_oversized_or_disallowed_attachments_refuse_the_registration_and_store_nothing(
    coordinator_ext, settings
):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1000
    big = SimpleUploadedFile("log.txt", b"x" * 1001)
    with pytest.raises(ValidationError, match="the limit is"):
        register(coordinator_ext, attachments=[big])
    with pytest.raises(ValidationError, match="not accepted"):
        register(coordinator_ext, attachments=[SimpleUploadedFile("tool.exe", b"MZ")])
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(media.rglob("*.*"))


def test_attachments_are_stored_outside_the_web_root_under_a_random_name(coordinator_ext, settings):
    ticket = register(coordinator_ext, attachments=[SimpleUploadedFile("../../etc/passwd.txt", b"hallo")])
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.original_name == "passwd.txt" and attachment.size == 5
    path = attachment.file.path
    assert path.startswith(str(settings.MEDIA_ROOT)) and "passwd" not in path


def test_deadline_columns_are_repaired_after_the_engine_recomputes_clocks_on_its_own(coordinator_ext, monday):
    from sla.models import Calendar, ClosureDay
    from sla.services import calendar_changed, sla_calendar_recompute

    ticket = register(coordinator_ext, urgency=3, impact=3)  # Low: 8 h, due Monday 17:00
    calendar = Calendar.objects.get(name="Extended")
    ClosureDay.objects.create(calendar=calendar, date="2026-11-23", reason="Verhuizing")
    calendar_changed(calendar=calendar)
    sla_calendar_recompute(calendar_id=calendar.pk)
    assert services.tickets_deadlines_sync(calendar_id=calendar.pk) == 1
    ticket.refresh_from_db()
    assert ticket.due_at == clocks(ticket)["response"].due_at == ams(2026, 11, 24, 16, 0)
