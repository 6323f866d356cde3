"""Every page of the product is reachable from the navigation of the role that uses it, and
no page shows a non-superuser a link to the admin (issue 14: "a test walks the links from each
role's home and finds every route of that role").

Per role the test starts at `/` (which sends each role to its home), follows same-origin links
breadth-first (GET, bounded) and collects every link and form action it sees; then each URL
pattern of the role's area (from Django's resolver) must have been seen, a pattern with
`<int:pk>` as soon as one instance was. The demo data (`seed_demo`) plus a few objects made
here stand for a desk in use."""

from collections import deque
from datetime import timedelta
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from accounts.models import AccountRequest, Organisation, User
from managers.announcements import policy_version_announce
from sla.models import ReportStatus, ServiceReport

pytestmark = pytest.mark.django_db

MAX_PAGES = 400
PER_PATTERN = 3  # instances of one `<int:pk>` pattern followed; one is enough to count

# Not followed (but still counted as seen): leaving the product's pages, or not a page.
SKIP_PREFIXES = ("/static/", "/media/", "/i18n/", "/api/", "/admin/", "/accounts/logout/", "/healthz")

# The area of each role: the namespaces of its pages (and single routes of other namespaces).
AREAS = {
    # Extended: mail is a support channel, so the mail drafts are among the pages.
    "coordinator@extra.example": {
        "portal",
        "service",
        "accounts:profile",
        "accounts:api_tokens",
        "accounts:organisation_detail",
    },
    "user@voorbeeld.example": {
        "portal",
        "service",
        "accounts:profile",
        "accounts:api_tokens",
        "accounts:organisation_detail",
    },
    "agent@sla-portal.example": {"desk", "accounts:profile", "accounts:api_tokens"},
    "manager@sla-portal.example": {"manager", "desk", "accounts", "disclosure:list"},
}

# Routes of an area that no link leads to, and why. Everything else must be found.
NOT_LINKED = {
    # A form's answer: the page shown after a POST, and routes only ever POSTed to that are
    # reached as form actions (counted) but not in every role's data.
    "portal:registered": "the redirect after registering a ticket",
    "portal:draft_file": "a file of a mail draft: the demo drafts have none",
    "desk:draft_file": "a file of a mail draft: the demo drafts have none",
    "portal:attachment": "an attachment: the demo tickets have none",
    "desk:attachment": "an attachment: the demo tickets have none",
    "desk:view_delete": "deleting a saved view: the demo has none",
    "manager:report_status": "polled by the report page's script, not a link",
    "accounts:sso_edit": "an SSO set-up: the demo has none",
    "accounts:sso_remove": "an SSO set-up: the demo has none",
}
# Routes of a namespace a role shares but does not use (a coordinator's pages are not a
# customer user's, change approvals are a manager's).
NOT_THEIRS = {
    "agent@sla-portal.example": {"desk:approvals", "desk:coordinators"},
    # Staff see an organisation on the desk (desk:organisation); this is the customers' page.
    "manager@sla-portal.example": {"accounts:organisation_detail"},
    "user@voorbeeld.example": {
        "portal:register",
        "portal:drafts",
        "portal:draft",
        "portal:draft_discard",
        "portal:draft_file",
        "service:sla_changes",
        "service:objection_file",
    },
}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.actions: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "form" and attrs.get("action"):
            self.actions.append(attrs["action"])


def _patterns(resolver=None, namespace="") -> set[str]:
    """Every named route as "namespace:name"."""
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
            names |= _patterns(entry, inner or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def _area(email: str) -> set[str]:
    wanted = AREAS[email]
    return {
        name
        for name in _patterns()
        if (name.split(":")[0] in wanted or name in wanted)
        and name not in NOT_LINKED
        and name not in NOT_THEIRS.get(email, set())
    }


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _walk(client, start: str = "/") -> tuple[set[str], list[tuple[str, str]], list[tuple[str, int]]]:
    """Breadth-first over same-origin links: (routes seen, admin links (page, href), errors)."""
    seen_routes: set[str] = set()
    admin_links: list[tuple[str, str]] = []
    errors: list[tuple[str, int]] = []
    visited: set[str] = set()
    followed_per_route: dict[str, int] = {}
    queue = deque([start])
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        response = client.get(path, follow=True)
        if response.status_code >= 400:
            errors.append((path, response.status_code))
            continue
        final = response.request["PATH_INFO"]
        if route := _route(final):
            seen_routes.add(route)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode("utf-8", errors="replace"))
        for href in parser.hrefs + parser.actions:
            url = urlsplit(urljoin(final, href))
            if url.scheme not in ("", "http") or url.netloc not in ("", "testserver"):
                continue
            if url.path.startswith("/admin/"):
                admin_links.append((final, href))
            route = _route(url.path)
            if route is None:
                continue
            seen_routes.add(route)
            if href in parser.actions or url.path.startswith(SKIP_PREFIXES) or url.path in visited:
                continue
            if followed_per_route.get(route, 0) >= PER_PATTERN:
                continue
            followed_per_route[route] = followed_per_route.get(route, 0) + 1
            queue.append(url.path)  # the page itself: its filters and pages show the same links
    return seen_routes, admin_links, errors


@pytest.fixture
def demo(db):
    """The demo data, plus what a desk in use has and the demo lacks: a service report of each
    organisation, an announced SLA change and an account request waiting for a manager."""
    call_command("seed_demo", stdout=StringIO())
    AccountRequest.objects.create(
        email="nieuw@voorbeeld.example", full_name="Nora Nieuw", organisation_name="Gemeente Voorbeeld"
    )
    today = timezone.localdate()
    for organisation in Organisation.objects.all():
        ServiceReport.objects.create(
            organisation=organisation,
            period_start=today - timedelta(days=90),
            period_end=today - timedelta(days=1),
            status=ReportStatus.DONE,
            html="<p>report</p>",
            pdf=b"%PDF-1.4",
        )
    policy_version_announce(
        by=User.objects.get(email="manager@sla-portal.example"),
        document="002",
        name="SLA 2027",
        effective_from=today + timedelta(days=62),
    )


@pytest.mark.parametrize("email", list(AREAS))
def test_every_page_of_a_role_is_reachable_from_its_home_and_none_links_to_the_admin(client, demo, email):
    user = User.objects.get(email=email)
    assert not user.is_superuser
    client.force_login(user)
    seen, admin_links, errors = _walk(client)
    assert not admin_links, f"{email} is shown links to the admin: {admin_links}"
    assert not errors, f"{email} follows links that fail: {errors}"
    missing = sorted(_area(email) - seen)
    assert not missing, f"{email} cannot reach from the navigation: {missing}"
