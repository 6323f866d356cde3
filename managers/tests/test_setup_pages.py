"""The managers' set-up pages (issue 15): organisations and contracts, products, the RACI table,
hours cards and maintenance windows, for managers only, never a 500, never the admin."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.tests.factories import OrganisationFactory, UserFactory
from managers import setup
from sla.models import Contract, MaintenanceWindow, ServiceLevel
from sla.tests.factories import organisation_on_level
from sla_portal.formatting import date_text
from tickets import services
from tickets.models import HoursBooking, HoursCard, Module, Product, RaciRule
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_ext(db):
    return coordinator_on("extended")


@pytest.fixture
def manager_web(client, manager):
    client.force_login(manager)
    return client


def _pages(organisation: Organisation) -> list[str]:
    contract = organisation.contracts.first()
    card = HoursCard.objects.create(organisation=organisation, hours=10, purchased_on=timezone.localdate())
    product = Product.objects.first()
    return [
        reverse("manager:setup"),
        reverse("manager:setup_organisations"),
        reverse("manager:setup_organisation_create"),
        reverse("manager:setup_organisation", args=[organisation.pk]),
        reverse("manager:setup_hours_cards", args=[organisation.pk]),
        reverse("manager:setup_contract", args=[contract.pk]),
        reverse("manager:setup_hours_card", args=[card.pk]),
        reverse("manager:setup_products"),
        reverse("manager:setup_product", args=[product.pk]),
        reverse("manager:setup_module", args=[product.modules.first().pk]),
        reverse("manager:setup_raci"),
        reverse("manager:setup_maintenance"),
        reverse("manager:setup_maintenance_window", args=[MaintenanceWindow.objects.first().pk]),
    ]


# --- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.CONSULTANT, Role.COORDINATOR, Role.CUSTOMER_USER])
def test_only_managers_see_the_set_up_pages_everyone_else_gets_403(client, make_staff, role):
    coordinator = coordinator_on("extended")
    pages = _pages(coordinator.organisation)
    if role in (Role.COORDINATOR, Role.CUSTOMER_USER):
        # a customer, even about their own organisation
        user = UserFactory(role=role, organisation=coordinator.organisation)
    else:
        user = make_staff(role)
    client.force_login(user)
    for url in pages:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    assert Organisation.objects.filter(name="x").count() == 0


def test_managers_open_every_set_up_page_and_none_links_to_the_admin(manager_web):
    for url in _pages(organisation_on_level("default")):
        response = manager_web.get(url)
        assert response.status_code == 200, url
        assert "/admin/" not in response.content.decode(), url


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("manager:setup_raci"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_set_up_pages_answer_only_from_the_management_networks(manager_web, settings):
    settings.MANAGEMENT_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert manager_web.get(reverse("manager:setup_raci"), REMOTE_ADDR="192.0.2.7").status_code == 403
    assert manager_web.get(reverse("manager:setup_raci"), REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_manager_navigation_leads_to_the_set_up(manager_web):
    page = manager_web.get(reverse("manager:home")).content.decode()
    assert reverse("manager:setup") in page
    index = manager_web.get(reverse("manager:setup")).content.decode()
    for name in ("setup_organisations", "setup_products", "setup_raci", "setup_maintenance"):
        assert reverse(f"manager:{name}") in index


# --- the RACI table: the desk obeys it ----------------------------------------------------------


def _raci_post(client, changes: dict[tuple[str, str], str], *, digest: str | None = None):
    cells = setup.raci_cells()
    data = {f"{step}__{role}": letter for (step, role), letter in cells.items()}
    data.update({f"{step}__{role}": letter for (step, role), letter in changes.items()})
    data["digest"] = digest or setup.raci_digest(cells)
    return client.post(reverse("manager:setup_raci"), data)


def test_removing_supports_r_on_classify_takes_the_step_from_the_agents_desk_at_once(
    client, manager, agent, coordinator_ext, django_capture_on_commit_callbacks
):
    """SPEC §5: "R may perform the step ... The RACI table is data that drives permissions";
    document 001 §2.1 gives Support the R of step 3 ("Classificeer ticket")."""
    ticket = register(coordinator_ext)
    detail = reverse("desk:detail", args=[ticket.pk])
    client.force_login(agent)
    assert "form-classify" in client.get(detail).content.decode()

    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):  # the desk's cached RACI table goes at commit
        response = _raci_post(client, {("classify", "support"): ""})
    assert response.status_code == 302
    assert not RaciRule.objects.filter(step="classify", role="support").exists()
    entry = LogEntry.objects.latest("action_time")
    assert entry.user_id == manager.pk and "classify support: R → -" in entry.change_message

    client.force_login(agent)
    assert "form-classify" not in client.get(detail).content.decode()
    refused = client.post(reverse("desk:action", args=[ticket.pk, "classify"]), {"clarity": "clear"})
    assert refused.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "new"

    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert _raci_post(client, {("classify", "support"): "R"}).status_code == 302
    client.force_login(agent)
    assert "form-classify" in client.get(detail).content.decode()
    done = client.post(
        reverse("desk:action", args=[ticket.pk, "classify"]),
        {"clarity": "clear", "version": ticket.version},
    )
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({("classify", "support"): "", ("classify", "manager"): ""}, "nobody may perform it"),
        ({("classify", "support"): "A"}, "one role at most is accountable"),
        ({("classify", "support"): "X"}, "Select a valid choice"),
    ],
)
def test_a_raci_table_without_a_performer_or_with_two_accountables_is_refused_whole(
    manager_web, changes, message
):
    before = setup.raci_cells()
    response = _raci_post(manager_web, changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert setup.raci_cells() == before


def test_a_raci_save_against_a_table_changed_meanwhile_is_refused(manager_web):
    stale = setup.raci_digest(setup.raci_cells())
    RaciRule.objects.filter(step="test_bug", role="consultant").update(letter="C")
    response = _raci_post(manager_web, {("classify", "consultant"): "C"}, digest=stale)
    assert response.status_code == 400
    assert "changed the RACI table meanwhile" in response.content.decode()
    assert RaciRule.objects.get(step="classify", role="consultant").letter == "I"


def test_the_raci_grid_shows_every_step_and_role_with_a_label(manager_web):
    page = manager_web.get(reverse("manager:setup_raci")).content.decode()
    assert page.count("<select") == 13 * 4
    assert page.count('aria-label="') >= 13 * 4


# --- prepaid hours cards -------------------------------------------------------------------------


def test_a_manager_adds_an_hours_card_and_sees_it_with_the_hours_left(manager_web, manager):
    organisation = organisation_on_level("extended")
    url = reverse("manager:setup_hours_cards", args=[organisation.pk])
    today = timezone.localdate()
    response = manager_web.post(
        url,
        {"hours": "40", "purchased_on": today.isoformat(), "valid_until": "", "reference": "SK-2026-7"},
    )
    assert response.status_code == 302
    card = HoursCard.objects.get(organisation=organisation)
    assert (card.hours, card.reference) == (Decimal(40), "SK-2026-7")
    assert LogEntry.objects.filter(object_id=str(card.pk), user=manager).exists()
    page = manager_web.get(url).content.decode()
    assert "SK-2026-7" in page and "Hours left on valid cards: 40" in page


@pytest.mark.parametrize(
    "data",
    [
        {"hours": "0"},
        {"hours": "-5"},
        {"hours": "99999"},
        {"hours": "abc"},
        {"hours": "10", "purchased_on": "9999-12-31"},
        {"hours": "10", "purchased_on": "2999-01-01"},  # bought in the future
        {"hours": "10", "valid_until": "2000-01-01"},  # ends before it was bought
        {"hours": "10", "valid_until": "2090-01-01"},  # valid for more than ten years
        {"hours": "10", "reference": "x" * 101},
    ],
)
def test_an_hours_card_out_of_bounds_is_a_form_error_and_stores_nothing(manager_web, data):
    organisation = organisation_on_level("extended")
    payload = {"purchased_on": timezone.localdate().isoformat(), "valid_until": "", "reference": ""} | data
    response = manager_web.post(reverse("manager:setup_hours_cards", args=[organisation.pk]), payload)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not HoursCard.objects.exists()


def test_a_card_never_shrinks_below_the_hours_booked_on_it(manager_web, coordinator_ext, make_staff):
    consultant = make_staff(Role.CONSULTANT)
    card = HoursCard.objects.create(
        organisation=coordinator_ext.organisation, hours=10, purchased_on=date(2026, 1, 1)
    )
    ticket = register(coordinator_ext)
    HoursBooking.objects.create(card=card, ticket=ticket, consultant=consultant, on=date(2026, 2, 1), hours=6)
    url = reverse("manager:setup_hours_card", args=[card.pk])
    response = manager_web.post(url, {"hours": "5", "purchased_on": "2026-01-01"})
    assert response.status_code == 400 and "6.00 hours were already booked" in response.content.decode()
    response = manager_web.post(
        url, {"hours": "10", "purchased_on": "2026-01-01", "valid_until": "2026-01-15"}
    )
    assert response.status_code == 400 and "1 Feb 2026" in response.content.decode()
    assert manager_web.post(url, {"hours": "12", "purchased_on": "2026-01-01"}).status_code == 302
    card.refresh_from_db()
    assert card.hours == 12
    page = manager_web.get(reverse("manager:setup_hours_cards", args=[card.organisation_id])).content.decode()
    assert ticket.reference in page  # its bookings, with the ticket


def test_the_hours_cards_page_loads_in_the_same_queries_for_one_card_or_twenty(
    manager_web, coordinator_ext, make_staff, django_assert_max_num_queries
):
    organisation = coordinator_ext.organisation
    consultant = make_staff(Role.CONSULTANT)
    ticket = register(coordinator_ext)
    url = reverse("manager:setup_hours_cards", args=[organisation.pk])

    def add(count):
        for _ in range(count):
            card = HoursCard.objects.create(organisation=organisation, hours=8, purchased_on=date(2026, 1, 1))
            HoursBooking.objects.create(
                card=card, ticket=ticket, consultant=consultant, on=date(2026, 1, 2), hours=1
            )

    add(1)
    manager_web.get(url)  # warm the session and caches
    with django_assert_max_num_queries(14) as one:
        manager_web.get(url)
    add(19)
    with django_assert_max_num_queries(len(one.captured_queries)):
        manager_web.get(url)


def test_short_hours_send_managers_to_the_hours_cards_and_others_to_a_manager(
    client, coordinator_ext, agent, manager
):
    organisation = coordinator_ext.organisation
    ticket = register(coordinator_ext)
    services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
    services.ticket_problem_determine(ticket=ticket, by=agent, problem_type="configuration")
    ticket.refresh_from_db()
    url = reverse("desk:action", args=[ticket.pk, "consultancy"])
    client.force_login(agent)
    response = client.post(url, {"agreed": "yes", "hours": "8", "version": ticket.version})
    page = response.content.decode()
    assert response.status_code == 400
    assert "ask a support manager to add it" in page
    assert "/admin/" not in page and reverse("manager:setup_hours_cards", args=[organisation.pk]) not in page

    client.force_login(manager)
    response = client.post(url, {"agreed": "yes", "hours": "8", "version": ticket.version})
    page = response.content.decode()
    assert response.status_code == 400
    assert "hours cards page" in page
    assert reverse("manager:setup_hours_cards", args=[organisation.pk]) in page
    assert "/admin/" not in page


# --- organisations and contracts -----------------------------------------------------------------


def test_the_organisation_list_searches_and_pages_in_constant_queries(
    manager_web, django_assert_max_num_queries
):
    for index in range(3):
        organisation_on_level("default", name=f"Gemeente {index:02d}")
    url = reverse("manager:setup_organisations")
    manager_web.get(url)
    with django_assert_max_num_queries(14) as few:
        manager_web.get(url)
    for index in range(3, 40):
        organisation = organisation_on_level("extended", name=f"Gemeente {index:02d}")
        HoursCard.objects.create(organisation=organisation, hours=5, purchased_on=date(2026, 1, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_web.get(url).content.decode()
    assert "Gemeente 00" in page and "Gemeente 30" not in page  # 25 a page
    assert "Gemeente 30" in manager_web.get(url, {"page": 2}).content.decode()
    found = manager_web.get(url, {"q": "ente 07"}).content.decode()
    assert "Gemeente 07" in found and "Gemeente 08" not in found
    assert manager_web.get(url, {"q": "x\x00", "page": "x"}).status_code == 200


def test_a_manager_creates_an_organisation_with_its_first_contract(manager_web, manager):
    extended = ServiceLevel.objects.get(code="extended")
    response = manager_web.post(
        reverse("manager:setup_organisation_create"),
        {"name": " Waterschap Noord ", "service_level": extended.pk, "valid_from": "2026-01-01"},
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Waterschap Noord")
    assert organisation.contracts.get().service_level == extended
    again = manager_web.post(
        reverse("manager:setup_organisation_create"),
        {"name": "waterschap noord", "service_level": extended.pk, "valid_from": "2026-01-01"},
    )
    assert again.status_code == 400 and "already exists" in again.content.decode()
    assert Organisation.objects.filter(name__iexact="waterschap noord").count() == 1


def test_a_contract_change_takes_effect_after_the_last_ticket_and_never_overlaps(
    manager_web, coordinator_ext
):
    """Tickets keep the level they were registered under: the contract record may not say
    otherwise for the days they were registered on."""
    organisation = coordinator_ext.organisation
    current = organisation.contracts.get()  # extended since 2020
    default = ServiceLevel.objects.get(code="default")
    register(coordinator_ext)
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    edit = reverse("manager:setup_contract", args=[current.pk])
    add = reverse("manager:setup_contract_add", args=[organisation.pk])

    # the level of a contract tickets were registered under stays
    response = manager_web.post(edit, {"service_level": default.pk, "valid_from": "2020-01-01"})
    assert response.status_code == 400 and date_text(tomorrow) in response.content.decode()
    # ending it before today's ticket: refused
    response = manager_web.post(
        edit,
        {"service_level": current.service_level_id, "valid_from": "2020-01-01", "valid_until": "2025-12-31"},
    )
    assert response.status_code == 400
    # a new contract overlapping it: refused
    response = manager_web.post(add, {"service_level": default.pk, "valid_from": tomorrow.isoformat()})
    assert response.status_code == 400 and "overlaps" in response.content.decode()
    # out of range: a form error, not a 500
    response = manager_web.post(add, {"service_level": default.pk, "valid_from": "9999-12-31"})
    assert response.status_code == 400
    assert organisation.contracts.count() == 1

    # end it today, then the new level from tomorrow
    response = manager_web.post(
        edit,
        {
            "service_level": current.service_level_id,
            "valid_from": "2020-01-01",
            "valid_until": today.isoformat(),
        },
    )
    assert response.status_code == 302
    assert (
        manager_web.post(add, {"service_level": default.pk, "valid_from": tomorrow.isoformat()}).status_code
        == 302
    )
    assert list(
        organisation.contracts.order_by("valid_from").values_list("service_level__code", flat=True)
    ) == [
        "extended",
        "default",
    ]
    assert LogEntry.objects.filter(content_type__model="contract").count() == 2


def test_a_contract_no_ticket_depends_on_can_be_deleted_one_in_use_cannot(manager_web, coordinator_ext):
    organisation = coordinator_ext.organisation
    current = organisation.contracts.get()
    register(coordinator_ext)
    later = Contract.objects.create(
        organisation=organisation,
        service_level=ServiceLevel.objects.get(code="default"),
        valid_from=date(2099, 1, 1),
    )
    Contract.objects.filter(pk=current.pk).update(valid_until=date(2098, 12, 31))
    refused = manager_web.post(reverse("manager:setup_contract", args=[current.pk]), {"delete": "1"})
    assert refused.status_code == 400 and Contract.objects.filter(pk=current.pk).exists()
    done = manager_web.post(reverse("manager:setup_contract", args=[later.pk]), {"delete": "1"})
    assert done.status_code == 302 and not Contract.objects.filter(pk=later.pk).exists()


def test_renaming_an_organisation_and_requiring_a_second_factor(manager_web):
    organisation = OrganisationFactory(name="Oude Naam")
    OrganisationFactory(name="Bezet")
    url = reverse("manager:setup_organisation", args=[organisation.pk])
    assert manager_web.post(url, {"name": "bezet"}).status_code == 400
    assert manager_web.post(url, {"name": "Nieuwe Naam", "mfa_required": "on"}).status_code == 302
    organisation.refresh_from_db()
    assert (organisation.name, organisation.mfa_required) == ("Nieuwe Naam", True)
    assert "Oude Naam → Nieuwe Naam" in LogEntry.objects.latest("action_time").change_message


# --- products and modules ------------------------------------------------------------------------


def test_products_and_modules_are_made_and_edited_with_their_codes_fixed(manager_web):
    response = manager_web.post(
        reverse("manager:setup_products"),
        {"code": "room-booker", "name": "Dubbel", "position": "1"},
    )
    assert response.status_code == 400 and Product.objects.filter(code="room-booker").count() == 1
    response = manager_web.post(
        reverse("manager:setup_products"),
        {"code": "qixium-agent", "name": "Qixium Agent", "position": "5", "active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get(code="qixium-agent")
    url = reverse("manager:setup_product", args=[product.pk])
    edited = manager_web.post(url, {"code": "changed", "name": "Qixium Agent 2", "position": "6"})
    assert edited.status_code == 302
    product.refresh_from_db()
    assert (product.code, product.name, product.active) == ("qixium-agent", "Qixium Agent 2", False)
    added = manager_web.post(
        reverse("manager:setup_module_add", args=[product.pk]),
        {"code": "agent", "name": "Agent", "position": "0"},
    )
    assert added.status_code == 302 and product.modules.get().code == "agent"
    assert manager_web.post(reverse("manager:setup_products"), {"position": "-1"}).status_code == 400


def test_a_module_tickets_name_cannot_be_deleted(manager_web, coordinator_ext):
    ticket = register(coordinator_ext)
    response = manager_web.post(reverse("manager:setup_module", args=[ticket.module_id]), {"delete": "1"})
    assert response.status_code == 400 and Module.objects.filter(pk=ticket.module_id).exists()
    unused = Module.objects.create(product=ticket.product, code="unused", name="Unused")
    assert (
        manager_web.post(reverse("manager:setup_module", args=[unused.pk]), {"delete": "1"}).status_code
        == 302
    )
    assert not Module.objects.filter(pk=unused.pk).exists()


# --- maintenance windows -------------------------------------------------------------------------


def test_the_seeded_windows_read_as_the_contractual_stretches(manager_web):
    """Document 001 §5.4: "Maandag t/m Vrijdag 20:00-04:00 (Amsterdam TZ)", Saturday and Sunday
    0:00-23:59: one stretch from Friday 20:00 to Monday 04:00 (SPEC §8)."""
    stretches = setup.window_stretches(list(MaintenanceWindow.objects.all()))
    as_text = [f"{s.start_day} {s.start} → {s.end_day} {s.end}" for s in stretches]
    assert "Friday 20:00 → Monday 04:00" in as_text
    assert "Monday 20:00 → Tuesday 04:00" in as_text
    assert len(as_text) == 5
    assert (
        "Friday 20:00 → Monday 04:00"
        in manager_web.get(reverse("manager:setup_maintenance")).content.decode()
    )


@pytest.mark.parametrize(
    "data",
    [
        {
            "weekday": "5",
            "starts": "10:00",
            "ends": "12:00",
            "timezone": "Europe/Amsterdam",
        },  # inside Saturday
        {"weekday": "9", "starts": "10:00", "ends": "12:00", "timezone": "Europe/Amsterdam"},
        {"weekday": "2", "starts": "25:00", "ends": "12:00", "timezone": "Europe/Amsterdam"},
        {"weekday": "2", "starts": "10:00", "ends": "12:00", "timezone": "Mars/Olympus"},
    ],
)
def test_a_maintenance_window_that_adds_nothing_or_does_not_parse_is_refused(manager_web, data):
    before = MaintenanceWindow.objects.count()
    response = manager_web.post(reverse("manager:setup_maintenance"), data)
    assert response.status_code == 400 and 'class="errorlist' in response.content.decode()
    assert MaintenanceWindow.objects.count() == before


def test_a_manager_adds_edits_and_deletes_a_maintenance_window(manager_web):
    response = manager_web.post(
        reverse("manager:setup_maintenance"),
        {"weekday": "2", "starts": "12:00", "ends": "13:00", "timezone": "Europe/Amsterdam"},
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get(weekday=2, starts=time(12))
    url = reverse("manager:setup_maintenance_window", args=[window.pk])
    assert (
        manager_web.post(
            url, {"weekday": "2", "starts": "12:00", "ends": "14:00", "timezone": "UTC"}
        ).status_code
        == 302
    )
    window.refresh_from_db()
    assert (window.ends, window.timezone) == (time(14), "UTC")
    assert manager_web.post(url, {"delete": "1"}).status_code == 302
    assert not MaintenanceWindow.objects.filter(pk=window.pk).exists()
    assert LogEntry.objects.filter(content_type__model="maintenancewindow").count() == 3


def test_the_set_up_index_shows_the_recent_changes(manager_web, manager):
    organisation = organisation_on_level("default", name="Gemeente Index")
    manager_web.post(
        reverse("manager:setup_organisation", args=[organisation.pk]), {"name": "Gemeente Index 2"}
    )
    page = manager_web.get(reverse("manager:setup")).content.decode()
    assert "Gemeente Index 2" in page and str(manager) in page


def test_the_desks_organisation_page_links_managers_to_the_set_up_and_agents_not(
    client, manager, agent, coordinator_ext
):
    organisation = coordinator_ext.organisation
    url = reverse("desk:organisation", args=[organisation.pk])
    edit = reverse("manager:setup_organisation", args=[organisation.pk])
    client.force_login(manager)
    assert edit in client.get(url).content.decode()
    client.force_login(agent)
    page = client.get(url).content.decode()
    assert edit not in page and "/admin/" not in page
