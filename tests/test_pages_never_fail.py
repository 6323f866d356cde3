"""Every server-rendered page, for every role, answers bad input with a page, a redirect or a 4xx
with a message, never a 500 ("bad input gets a clear error and loses nothing"). The API has
schemathesis for this; the pages get this sweep. Routes come from the URL configuration, so a
new page cannot escape, and a customer trying the other organisation's objects gets 403 or 404."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Role
from accounts.services import account_request_create
from conftest import login_with_second_factor
from knowledge.models import Deflection
from knowledge.services import article_create, article_update
from managers.announcements import policy_version_announce
from sla.models import Calendar, MaintenanceWindow, PolicyVersion, ReportStatus, ServiceReport
from tickets.models import HoursCard, Macro, Module, Product, SavedView
from tickets.services import mail_draft_create
from tickets.tests.factories import coordinator_on, register
from tickets.views.desk import DESK_ACTIONS
from tickets.views.portal import PORTAL_ACTIONS

pytestmark = pytest.mark.django_db

# The API, the admin, allauth's own pages, the language switch, files and the health probe
# are covered elsewhere (schemathesis, tests/test_health.py) or are not ours.
NOT_PAGES = ("api/", "admin/", "accounts/", "i18n/", "static/", "media/", "healthz")
# Field names of the pages' forms, filters and of the views reading request.GET/POST directly,
# with values of the wrong type; a NUL byte is text PostgreSQL refuses to store or compare.
NONSENSE = {
    "action": "nonsense",
    "expected_version": "abc",
    "version": "abc",
    "hours": "-1",
    "on": "not-a-date",
    "priority": "9",
    "impact": "x",
    "urgency": "x",
    "file": "",
    "language": "xx",
    "year": "x",
    "page": "x",
    "user": "x",
    "make": "maybe",
    "revoke": "x",
    "deactivate": "x",
    "decision": "x",
    "request": "x",
    "bug": "x",
    "next": "https://elsewhere.example/",
    "form-TOTAL_FORMS": "x",
    "start": "x",
    "agent": "x",
    "kind": "x\x00",
    "topic": "x\x00",
    "q": "x\x00",
}
# Without a version or the keys above, the forms that need no text pass and reach the services,
# the views' own free text gets a NUL byte, and `next` is no path.
TEXT = {name: "text\x00" for name in ("name", "body", "reason", "note", "title", "motivation")}
TEXT |= {"url": "https://hooks.example/\x00", "events": "ticket.created", "next": "nonsense"}
REQUESTS = {
    "GET": ("get", {}),
    "GET with nonsense": ("get", NONSENSE),
    "empty POST": ("post", {}),
    "POST of nonsense": ("post", NONSENSE),
    "POST of text": ("post", TEXT),
}
# Which object a `<int:pk>` stands for, by the path segment before it; the tenant's own are
# swapped for the other organisation's when a customer tries theirs.
TENANT_SEGMENTS = {"tickets", "attachments", "organisations", "reports", "drafts", "draft-files", "sso"}
OTHER_SEGMENTS = {
    "sla-changes",
    "views",
    "account-requests",
    "contracts",
    "hours-cards",
    "products",
    "modules",
    "maintenance",
    "macros",
    "calendars",
    "policies",
    "kb",  # an article (the desk's editor)
    "solved",  # a registration an article prevented
}
# The other parameters, filled with one value each (a token that is no token must be a 4xx).
OTHER_PARAMETERS = {
    "<int:revision_pk>": "revision",
    "<slug:step>": "step",
    "<slug:slug>": "slug",
    "<str:token>": "token",
}
ACTIONS = {"portal/": list(PORTAL_ACTIONS), "desk/": list(DESK_ACTIONS)}


def page_routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from page_routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if not route.startswith(NOT_PAGES):
                yield route


def concrete_paths(route: str, pks: dict[str, int]) -> list[str]:
    """The route with each pk filled in, once per action name where it takes one."""
    path = re.sub(r"([\w-]+)/<int:pk>", lambda m: f"{m[1]}/{pks[m[1]]}", "/" + route)
    for parameter, key in OTHER_PARAMETERS.items():
        path = path.replace(parameter, str(pks[key]))
    if "<slug:name>" not in path:
        return [path]
    names = next(names for prefix, names in ACTIONS.items() if route.startswith(prefix))
    return [path.replace("<slug:name>", name) for name in names]


def test_every_page_route_is_found_and_its_parameters_can_be_filled():
    routes = set(page_routes())
    assert len(routes) >= 12
    assert {"", "portal/tickets/<int:pk>/", "desk/tickets/<int:pk>/<slug:name>/", "manager/"} <= routes
    segments = {m[1] for route in routes for m in re.finditer(r"([\w-]+)/<int:pk>", route)}
    assert segments <= TENANT_SEGMENTS | OTHER_SEGMENTS, "say which object a new route's pk is"
    parameters = {p for route in routes for p in re.findall(r"<[^>]+>", route)}
    assert parameters <= {"<int:pk>", "<slug:name>", *OTHER_PARAMETERS}, (
        "teach concrete_paths the new parameter"
    )


@pytest.fixture
def world(make_staff, settings, tmp_path):
    """Two organisations with a ticket (and an attachment and a report) each, a coordinator of
    the first, an agent and a manager, each logged in with their own client. (A consultant would
    add a quarter to the run time and reach the same desk views as an agent.)"""
    settings.MEDIA_ROOT = tmp_path
    coordinator, other = coordinator_on("extended"), coordinator_on("extended")
    staff = {role: make_staff(role) for role in (Role.AGENT, Role.MANAGER)}
    version = policy_version_announce(
        by=staff[Role.MANAGER],
        document="002",
        name="SLA next",
        effective_from=timezone.localdate() + timedelta(days=62),
    )
    article = article_create(
        by=staff[Role.AGENT],
        title="Printer",
        body_markdown="Zet hem *aan*.",
        language="nl",
        visibility="public",
    )
    article_update(
        article=article,
        by=staff[Role.AGENT],
        title="Printer",
        body_markdown="Zet hem aan.",
        language="nl",
        visibility="public",
    )
    shared = {
        "sla-changes": version.pk,
        "views": SavedView.objects.create(user=staff[Role.AGENT], name="Mine", query="status=active").pk,
        "macros": Macro.objects.create(owner=staff[Role.AGENT], title="Mine", body_nl="a", body_en="b").pk,
        "account-requests": account_request_create(
            email="new@example.com", full_name="New", organisation_name="New BV"
        ).pk,
        # the managers' set-up pages (their customers get 403 like any other)
        "contracts": coordinator.organisation.contracts.get().pk,
        "hours-cards": HoursCard.objects.create(
            organisation=coordinator.organisation, hours=10, purchased_on=timezone.localdate()
        ).pk,
        "products": Product.objects.get(code="qixium-saas").pk,
        "modules": Module.objects.filter(product__code="qixium-saas").first().pk,
        "maintenance": MaintenanceWindow.objects.first().pk,
        "calendars": Calendar.objects.first().pk,
        "policies": PolicyVersion.objects.first().pk,
        "kb": article.pk,
        "revision": article.revisions.first().pk if article.revisions.exists() else 1,
        "step": "submit",
        "slug": article.slug,
        "token": "not-a-token",
        "solved": Deflection.objects.create(
            article=article, organisation=coordinator.organisation, user=coordinator, title_typed="x"
        ).pk,
    }
    pks = {}
    for scope, owner in (("mine", coordinator), ("theirs", other)):
        screenshot = SimpleUploadedFile("scherm.png", b"\x89PNG....", content_type="image/png")
        ticket = register(owner, title=f"Ticket of {scope}", attachments=[screenshot])
        report = ServiceReport.objects.create(
            organisation=owner.organisation,
            period_start=timezone.localdate() - timedelta(days=90),
            period_end=timezone.localdate(),
            status=ReportStatus.DONE,
            html="<p>report</p>",
            pdf=b"%PDF-1.4",
        )
        draft = mail_draft_create(
            sender=owner,
            subject=f"Mail of {scope}",
            body="x",
            mail_message_id=None,
            files=[SimpleUploadedFile("log.txt", b"trace")],
        )
        pks[scope] = {
            **shared,
            "tickets": ticket.pk,
            "attachments": ticket.attachments.get().pk,
            "organisations": owner.organisation_id,
            "reports": report.pk,
            "drafts": draft.pk,
            "draft-files": draft.files.get().pk,
            "sso": owner.organisation_id,
        }
    clients = {}
    for role, user in {Role.COORDINATOR: coordinator, **staff}.items():
        clients[role] = Client(raise_request_exception=False)  # a 500 is a status to report
        login_with_second_factor(clients[role], user)
    return {"pks": pks, "clients": clients}


def test_no_page_answers_bad_input_with_a_server_error(world):
    failures, cases = [], 0
    for role, client in world["clients"].items():
        for route in sorted(page_routes()):
            mine = concrete_paths(route, world["pks"]["mine"])
            theirs = [p for p in concrete_paths(route, world["pks"]["theirs"]) if p not in mine]
            for path in mine + (theirs if role == Role.COORDINATOR else []):
                for label, (method, data) in REQUESTS.items():
                    with transaction.atomic():  # every request starts from the same world
                        response = getattr(client, method)(path, data)
                        transaction.set_rollback(True)
                    cases += 1
                    status = response.status_code
                    case = f"{label} {path} as {role}: {status}"
                    if status >= 500:
                        failures.append(case)
                    # (a GET of a portal action redirects to the ticket, which is then not found)
                    elif path in theirs and not (status in (403, 404) or (method, status) == ("get", 302)):
                        failures.append(f"{case} for the other organisation's object")
                    elif role == Role.COORDINATOR and b"of theirs" in getattr(response, "content", b""):
                        failures.append(f"{case} shows the other organisation's ticket")
    assert cases > 500
    assert not failures, f"{len(failures)} of {cases} requests failed:\n" + "\n".join(failures)
