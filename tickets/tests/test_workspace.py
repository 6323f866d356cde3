"""The desk workspace (issue 16): the next step first, the "customer replied" marker, assign to
me, bulk actions with a result per ticket, macros, and who else has a ticket open."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from tickets import services
from tickets.forms import BULK_MAX
from tickets.models import Macro, Ticket, TicketRead
from tickets.tests.factories import register
from tickets.workspace import macro_render, macro_text, macro_values, next_steps, presence_key, presence_ping

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, agent):
    client.force_login(agent)
    return client


def _reload(ticket):
    return Ticket.objects.get(pk=ticket.pk)


# --- the next step --------------------------------------------------------------------------


def test_a_new_ticket_asks_to_classify_first(coordinator_ext, agent):
    """SPEC §5 stap 3: "Classificeren ticket" - Support is R; the first thing to do."""
    ticket = register(coordinator_ext)
    steps = next_steps(ticket, agent)
    assert steps.primary == ["classify"]
    assert "priority" in steps.others and "close" in steps.others and "classify" not in steps.others


def test_after_unclear_the_desk_waits_for_the_customer_and_then_classifies_again(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="unclear", question="Welke browser?")
    steps = next_steps(_reload(ticket), agent)
    assert steps.primary == [] and "customer" in steps.waiting
    services.message_customer(ticket=ticket, by=coordinator_ext, body="Firefox")
    assert next_steps(_reload(ticket), agent).primary == ["classify"]


def test_a_bug_goes_register_test_plan_resolve(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    assert next_steps(_reload(ticket), agent).primary == ["problem"]
    services.ticket_problem_determine(ticket=_reload(ticket), by=agent, problem_type="bug")
    assert next_steps(_reload(ticket), agent).primary == ["bug"]
    bug = services.bug_register(ticket=_reload(ticket), by=agent, reference="PBI-1")
    # after a bug is registered: test & rework (step 7)
    assert next_steps(_reload(ticket), agent).primary == ["bug_status"]
    services.bug_status_set(bug=bug, by=agent, status="fixed")
    assert next_steps(_reload(ticket), agent).primary == ["plan"]
    services.ticket_plan_with_customer(
        ticket=_reload(ticket), by=agent, planned_for=timezone.localdate() + timedelta(days=1), note="Morgen"
    )
    assert next_steps(_reload(ticket), agent).primary == ["resolve"]


def test_a_step_of_another_role_is_not_offered_and_says_whose_it_is(coordinator_ext, agent, make_staff):
    """SPEC §5 stap 9: "Inplannen consultancy" - the Consultant is R, Support only I."""
    consultant = make_staff(Role.CONSULTANT)
    services.hours_card_add(
        organisation=coordinator_ext.organisation,
        hours=10,
        purchased_on=timezone.localdate(),
        by=make_staff(Role.MANAGER),
    )
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    services.ticket_problem_determine(ticket=_reload(ticket), by=agent, problem_type="configuration")
    services.ticket_consultancy_agree(ticket=_reload(ticket), by=agent, agreed=True, hours=2)
    for_agent = next_steps(_reload(ticket), agent)
    assert for_agent.primary == [] and "9." in for_agent.waiting
    assert next_steps(_reload(ticket), consultant).primary == ["consultancy_plan"]


def test_a_normal_change_waits_for_a_manager_who_sees_approve_and_reject(coordinator_ext, agent, manager):
    ticket = register(coordinator_ext, kind="change", change_type="normal")
    assert ticket.status == "awaiting_approval"
    assert next_steps(ticket, agent).primary == []
    assert next_steps(ticket, manager).primary == ["approve", "reject"]


def test_the_ticket_page_shows_the_next_step_expanded_and_the_others_collapsed(staff_client, coordinator_ext):
    ticket = register(coordinator_ext)
    page = staff_client.get(reverse("desk:detail", args=[ticket.pk])).content.decode()
    next_card = page[page.index('id="next-step"') : page.index('id="other-steps"')]
    assert 'id="form-classify"' in next_card
    others = page[page.index('id="other-steps"') :]
    assert '<details class="action action-priority"' in others and 'id="form-classify"' not in others


# --- customer replied -----------------------------------------------------------------------


def test_the_conversation_service_records_when_the_customer_wrote(coordinator_ext, agent):
    ticket = register(coordinator_ext)
    assert ticket.customer_replied_at is None
    services.message_reply_public(ticket=ticket, by=agent, body="Kijken we naar")
    assert _reload(ticket).customer_replied_at is None  # support's own reply is not the customer's
    message = services.message_customer(ticket=ticket, by=coordinator_ext, body="Nog steeds kapot")
    assert _reload(ticket).customer_replied_at == message.created_at


def test_customer_replied_is_marked_and_filtered_until_the_assignee_opens_the_ticket(
    staff_client, agent, coordinator_ext
):
    answered = register(coordinator_ext, title="Beantwoord")
    quiet = register(coordinator_ext, title="Stil")
    for ticket in (answered, quiet):
        services.ticket_assign(ticket=ticket, by=agent, assignee=agent)
    staff_client.get(reverse("desk:detail", args=[answered.pk]))  # opened before the answer
    services.message_customer(ticket=answered, by=coordinator_ext, body="Hier is het logbestand")

    page = staff_client.get(reverse("desk:queue")).content.decode()
    assert page.count('class="badge replied marker"') == 1
    replied = staff_client.get(reverse("desk:queue"), {"sla": "replied"}).content.decode()
    assert answered.reference in replied and quiet.reference not in replied

    staff_client.get(reverse("desk:detail", args=[answered.pk]))  # the assignee reads it
    assert TicketRead.objects.filter(ticket=answered, user=agent).count() == 1  # upserted, not added
    assert (
        answered.reference not in staff_client.get(reverse("desk:queue"), {"sla": "replied"}).content.decode()
    )
    assert 'class="badge replied marker"' not in staff_client.get(reverse("desk:queue")).content.decode()


def test_another_agent_opening_the_ticket_does_not_clear_the_assignees_marker(
    client, agent, make_staff, coordinator_ext
):
    colleague = make_staff(Role.AGENT)
    ticket = register(coordinator_ext)
    services.ticket_assign(ticket=ticket, by=agent, assignee=agent)
    services.message_customer(ticket=ticket, by=coordinator_ext, body="Antwoord")
    client.force_login(colleague)
    client.get(reverse("desk:detail", args=[ticket.pk]))
    assert ticket.reference in client.get(reverse("desk:queue"), {"sla": "replied"}).content.decode()


# --- assign to me and bulk actions ----------------------------------------------------------


def test_assign_to_me_from_a_queue_row(staff_client, agent, coordinator_ext):
    ticket = register(coordinator_ext)
    response = staff_client.post(reverse("desk:bulk"), {"assign_me_one": ticket.pk, "next": "/desk/?sla="})
    assert response.status_code == 302 and response["Location"] == "/desk/?sla="
    assert _reload(ticket).assignee == agent


def test_bulk_assign_reports_each_ticket_and_refuses_a_closed_one(
    staff_client, agent, coordinator_ext, make_staff
):
    colleague = make_staff(Role.AGENT)
    first, second = register(coordinator_ext), register(coordinator_ext)
    closed = register(coordinator_ext)
    services.ticket_close(ticket=closed, by=agent, reason="Dubbel")
    response = staff_client.post(
        reverse("desk:bulk"),
        {"ids": [first.pk, second.pk, closed.pk, 99999999], "action": "assign", "assignee": colleague.pk},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Done: 2. Refused: 2." in page
    assert _reload(first).assignee == colleague and _reload(second).assignee == colleague
    assert _reload(closed).assignee is None
    assert "closed" in page.lower() and "No such ticket." in page


def test_bulk_priority_needs_a_reason_and_goes_through_the_priority_service(staff_client, coordinator_ext):
    """SPEC §4: a priority other than the matrix is an override and needs a reason."""
    ticket = register(coordinator_ext, urgency=3, impact=3)
    refused = staff_client.post(
        reverse("desk:bulk"), {"ids": [ticket.pk], "action": "priority", "priority": 1}
    )
    assert refused.status_code == 302 and _reload(ticket).priority != 1
    response = staff_client.post(
        reverse("desk:bulk"),
        {"ids": [ticket.pk], "action": "priority", "priority": 1, "reason": "Productie ligt stil"},
    )
    ticket = _reload(ticket)
    assert response.status_code == 200 and ticket.priority == 1 and ticket.priority_overridden
    assert ticket.priority_reason == "Productie ligt stil"


def test_bulk_close_is_refused_for_a_consultant_by_the_raci_table(client, make_staff, coordinator_ext):
    """SPEC §5 stap 13: "Bijwerken ticket" - Support is R; the consultant is only informed."""
    consultant = make_staff(Role.CONSULTANT)
    ticket = register(coordinator_ext)
    client.force_login(consultant)
    page = client.post(
        reverse("desk:bulk"), {"ids": [ticket.pk], "action": "close", "reason": "Opgelost"}
    ).content.decode()
    assert "Refused: 1." in page and _reload(ticket).status != "closed"


def test_bulk_is_bounded_and_needs_a_selection(staff_client, coordinator_ext):
    too_many = list(range(1, BULK_MAX + 2))
    response = staff_client.post(reverse("desk:bulk"), {"ids": too_many, "action": "assign"}, follow=True)
    assert f"at most {BULK_MAX}" in response.content.decode()
    response = staff_client.post(reverse("desk:bulk"), {"action": "assign"}, follow=True)
    assert "Select at least one ticket." in response.content.decode()
    response = staff_client.post(reverse("desk:bulk"), {"ids": ["x"], "action": "assign"}, follow=True)
    assert response.status_code == 200 and "Nothing was changed" in response.content.decode()


def test_bulk_is_for_staff_only(client, coordinator_ext):
    ticket = register(coordinator_ext)
    client.force_login(coordinator_ext)
    response = client.post(reverse("desk:bulk"), {"ids": [ticket.pk], "action": "assign_me"})
    assert response.status_code in (302, 403) and _reload(ticket).assignee is None


# --- macros ---------------------------------------------------------------------------------


def test_macro_placeholders_are_a_whitelist_and_never_formatted():
    values = {"customer_name": "Jan {ticket_number}", "ticket_number": "T-000001"}
    text = macro_render("Beste {customer_name}, {ticket_number} {unknown} {0.__class__} {", values)
    assert text == "Beste Jan {ticket_number}, T-000001 {unknown} {0.__class__} {"


def test_a_macro_is_rendered_in_the_customers_language_with_the_deadlines(coordinator_ext, agent, monday):
    from tickets.selectors import clock_statuses

    coordinator_ext.language = "en"
    coordinator_ext.save()
    ticket = Ticket.objects.select_related("registered_by").get(pk=register(coordinator_ext).pk)
    macro = Macro.objects.create(
        owner=agent,
        title="Ontvangen",
        body_nl="Beste {customer_name}, we antwoorden voor {response_deadline}.",
        body_en="Dear {customer_name}, about {ticket_number}: we answer by {response_deadline}.",
    )
    values = macro_values(ticket, clocks=clock_statuses(ticket))
    english = macro_text(macro, language="en", values=values)
    assert english.startswith(
        f"Dear {coordinator_ext.full_name or coordinator_ext.email}, about {ticket.reference}"
    )
    assert "-" not in english.rsplit("by", 1)[1]  # a real deadline, not the placeholder for none
    assert macro_text(macro, language="nl", values=values).startswith("Beste ")


def test_a_macro_prefills_the_reply_escaped_and_only_ones_own_or_shared(
    staff_client, agent, make_staff, coordinator_ext
):
    other = make_staff(Role.AGENT)
    mine = Macro.objects.create(
        owner=agent, title="Mijn", body_nl="<b>Beste</b> {customer_name}", body_en="<b>Beste</b>"
    )
    private = Macro.objects.create(owner=other, title="Privé", body_nl="geheim", body_en="secret")
    shared = Macro.objects.create(
        owner=other, title="Gedeeld", body_nl="Gedeelde tekst", body_en="y", shared=True
    )
    ticket = register(coordinator_ext)
    page = staff_client.get(reverse("desk:detail", args=[ticket.pk]), {"macro": mine.pk}).content.decode()
    assert "&lt;b&gt;Beste&lt;/b&gt;" in page and "<b>Beste</b>" not in page
    assert shared.title in page and private.title not in page
    page = staff_client.get(reverse("desk:detail", args=[ticket.pk]), {"macro": private.pk}).content.decode()
    assert "geheim" not in page


def test_macros_are_created_and_edited_by_their_owner_and_shared_ones_by_a_manager(
    staff_client, agent, client, manager
):
    response = staff_client.post(
        reverse("desk:macros"), {"title": "Dank", "body_nl": "Dank u", "body_en": "Thank you", "shared": "on"}
    )
    assert response.status_code == 302
    macro = Macro.objects.get()
    assert macro.owner == agent and macro.shared
    assert staff_client.post(reverse("desk:macros"), {"title": ""}).status_code == 400
    client.force_login(manager)
    response = client.post(
        reverse("desk:macro_edit", args=[macro.pk]),
        {"title": "Bedankt", "body_nl": "Bedankt", "body_en": "Thanks", "shared": "on"},
    )
    assert response.status_code == 302 and Macro.objects.get().title == "Bedankt"


def test_someone_elses_personal_macro_is_not_found(client, make_staff, agent):
    macro = Macro.objects.create(owner=agent, title="Mijn", body_nl="a", body_en="b")
    client.force_login(make_staff(Role.AGENT))
    assert client.get(reverse("desk:macro_edit", args=[macro.pk])).status_code == 404
    assert Macro.objects.filter(pk=macro.pk).exists()


# --- who else has the ticket open -----------------------------------------------------------


def test_two_staff_on_one_ticket_see_each_other(client, agent, make_staff, coordinator_ext):
    colleague = make_staff(Role.AGENT)
    ticket = register(coordinator_ext)
    client.force_login(agent)
    assert client.post(reverse("desk:presence", args=[ticket.pk])).json() == {"others": []}
    client.force_login(colleague)
    page = client.get(reverse("desk:detail", args=[ticket.pk])).content.decode()
    assert f"Also open by {agent.get_full_name()}" in page
    client.force_login(agent)
    assert client.post(reverse("desk:presence", args=[ticket.pk])).json() == {
        "others": [colleague.get_full_name()]
    }


def test_presence_without_redis_shows_nobody_and_no_error(
    settings, agent, make_staff, coordinator_ext, client
):
    settings.CACHES = {
        "default": {
            "BACKEND": "sla_portal.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    from django.core.cache import caches

    caches._settings = None
    try:
        ticket = register(coordinator_ext)
        assert presence_ping(ticket.pk, agent) == []
        client.force_login(make_staff(Role.AGENT))
        response = client.get(reverse("desk:detail", args=[ticket.pk]))
        page = response.content.decode()
        assert response.status_code == 200 and page.count("Also open by") == 1  # the hidden template only
        assert 'refused." hidden></p>' in page
    finally:
        del settings.CACHES
        caches._settings = None


def test_presence_forgets_a_viewer_after_the_ttl(agent, make_staff, coordinator_ext, monkeypatch):
    import tickets.workspace as workspace

    colleague = make_staff(Role.AGENT)
    ticket = register(coordinator_ext)
    presence_ping(ticket.pk, agent)
    now = workspace.time.time()
    monkeypatch.setattr(workspace.time, "time", lambda: now + workspace.PRESENCE_SECONDS + 1)
    assert presence_ping(ticket.pk, colleague) == []
    assert cache.get(presence_key(ticket.pk))


# --- bounded queries ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 20])
def test_the_queue_with_markers_and_the_replied_filter_make_constant_queries(
    staff_client, agent, coordinator_ext, count, django_assert_num_queries
):
    for index in range(count):
        ticket = register(coordinator_ext, title=f"T{index}")
        services.message_customer(ticket=ticket, by=coordinator_ext, body="Antwoord")
    for query in ({}, {"sla": "replied"}):
        staff_client.get(reverse("desk:queue"), query)
        with django_assert_num_queries(3):  # the user, the count, the page's stamps with markers
            assert staff_client.get(reverse("desk:queue"), query).status_code == 200


@pytest.mark.parametrize("macros", [1, 15])
def test_the_ticket_page_with_macros_makes_a_bounded_number_of_queries(
    staff_client, agent, coordinator_ext, macros, django_assert_max_num_queries
):
    ticket = register(coordinator_ext)
    Macro.objects.bulk_create(
        Macro(owner=agent, title=f"M{index}", body_nl="{customer_name}", body_en="x")
        for index in range(macros)
    )
    staff_client.get(reverse("desk:detail", args=[ticket.pk]))
    with django_assert_max_num_queries(34):
        assert staff_client.get(reverse("desk:detail", args=[ticket.pk])).status_code == 200


def test_a_new_agent_is_offered_in_the_cached_bulk_form_at_once(
    staff_client, make_staff, django_capture_on_commit_callbacks
):
    staff_client.get(reverse("desk:queue"))  # the bulk form is cached now
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = make_staff(Role.AGENT)
    assert f">{newcomer}</option>" in staff_client.get(reverse("desk:queue")).content.decode()


# --- the ticket page's lists and cached parts -----------------------------------------------


def test_the_ticket_page_shows_its_lists_in_order_from_one_query(
    staff_client, agent, coordinator_ext, django_assert_max_num_queries
):
    """Messages with their files, the registration's files, the history and the bugs come
    from one query (``selectors.ticket_detail_parts``), each list in its order."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = register(
        coordinator_ext, attachments=[SimpleUploadedFile("scherm.png", b"png", content_type="image/png")]
    )
    services.message_note_internal(
        ticket=ticket,
        by=agent,
        body="Eerste notitie",
        channel="portal",
        attachments=[SimpleUploadedFile("log.txt", b"log", content_type="text/plain")],
    )
    services.message_note_internal(
        ticket=ticket, by=agent, body="Tweede notitie", channel="phone", attachments=[]
    )
    services.ticket_classify(ticket=_reload(ticket), by=agent, clarity="clear")
    services.ticket_problem_determine(ticket=_reload(ticket), by=agent, problem_type="bug")
    services.bug_register(ticket=_reload(ticket), by=agent, reference="PBI-7")
    url = reverse("desk:detail", args=[ticket.pk])
    staff_client.get(url)  # the RACI table and the macros are cached now
    # The user, the ticket, the read marker, the lists (with the clocks and the rows the ticket
    # names) and their users; and the choices of two forms (the bugs to test, the staff).
    with django_assert_max_num_queries(7):
        page = staff_client.get(url).content.decode()
    first, second = page.index("Eerste notitie"), page.index("Tweede notitie")
    assert first < second
    assert page.index("log.txt") > first and page.index("log.txt") < second  # under its own message
    assert page.index("scherm.png") < first  # the registration's file
    assert "PBI-7" in page and str(agent) in page
    assert page.index("PBI-7", page.index('id="bugs"')) > 0
    assert page.count('<div class="clock clock-') == 2 * ticket.clocks.count() == 4  # strip and card
    assert str(ticket.organisation) in page and ticket.product.name in page


def test_a_new_macro_and_a_raci_change_reach_the_cached_ticket_page_at_once(
    staff_client, agent, coordinator_ext, django_capture_on_commit_callbacks
):
    from tickets.models import RaciRule

    ticket = register(coordinator_ext)
    url = reverse("desk:detail", args=[ticket.pk])
    page = staff_client.get(url).content.decode()  # cached now
    assert 'id="form-classify"' in page
    with django_capture_on_commit_callbacks(execute=True):
        Macro.objects.create(owner=agent, title="Nieuwe macro", body_nl="a", body_en="b")
    assert "Nieuwe macro" in staff_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        rule = RaciRule.objects.get(step="classify", role="support")
        rule.letter = "I"
        rule.save()
    assert 'id="form-classify"' not in staff_client.get(url).content.decode()


def test_the_ticket_pages_one_query_reads_what_the_orm_reads(coordinator_ext, agent, consultant):
    """``selectors.ticket_detail_parts`` builds the instances from ``row_to_json``: every
    field as the ORM reads it (timestamps, dates, decimals), the lists in their order, the
    users and the rows the ticket names set on them."""
    from datetime import date
    from decimal import Decimal

    from sla.models import ClockEvent
    from tickets.models import Attachment, BugReference, HoursBooking, HoursCard, Message, TicketChange
    from tickets.selectors import DETAIL_RELATIONS, ticket_detail_parts

    ticket = register(coordinator_ext)
    services.message_note_internal(ticket=ticket, by=agent, body="Notitie", channel="phone", attachments=[])
    services.ticket_classify(ticket=_reload(ticket), by=agent, clarity="clear")
    services.ticket_problem_determine(ticket=_reload(ticket), by=agent, problem_type="bug")
    services.bug_register(ticket=_reload(ticket), by=agent, reference="PBI-9", url="https://example.com/9")
    card = HoursCard.objects.create(
        organisation=coordinator_ext.organisation, hours=Decimal(10), purchased_on=date(2026, 1, 1)
    )
    HoursBooking.objects.create(
        card=card, ticket=ticket, consultant=consultant, on=date(2026, 2, 1), hours=Decimal("2.30")
    )
    lean = Ticket.objects.get(pk=ticket.pk)
    parts = ticket_detail_parts(lean)

    def fields(instance):
        return [getattr(instance, f.attname) for f in instance._meta.concrete_fields]

    expected = {
        "bugs": BugReference.objects.filter(ticket=ticket),
        "bookings": HoursBooking.objects.filter(ticket=ticket),
        "history": TicketChange.objects.filter(ticket=ticket),
        "messages": Message.objects.filter(ticket=ticket),
        "attachments": Attachment.objects.filter(ticket=ticket),
        "clock_events": ClockEvent.objects.filter(clock__ticket=ticket).order_by("at", "pk"),
    }
    for name, queryset in expected.items():
        assert [fields(row) for row in parts[name]] == [fields(row) for row in queryset], name
        assert parts[name] or name == "attachments", name
    assert parts["bookings"][0].hours == Decimal("2.30") and str(parts["bookings"][0].hours) == "2.30"
    assert parts["bookings"][0].consultant == consultant and parts["history"][0].by == agent
    joined = Ticket.objects.select_related(*DETAIL_RELATIONS).get(pk=ticket.pk)
    for name in DETAIL_RELATIONS:
        field = Ticket._meta.get_field(name)
        assert field.is_cached(lean), name
        related, orm = getattr(lean, name), getattr(joined, name)
        assert (fields(related) if related else None) == (fields(orm) if orm else None), name
    assert sorted(fields(c) for c in lean.clocks.all()) == sorted(fields(c) for c in ticket.clocks.all())
    assert all(clock.calendar.name for clock in lean.clocks.all())
