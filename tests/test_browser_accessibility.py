"""Every page of each role works on a phone and passes axe-core (issue 17: "each role's pages
at 390 px have no horizontal scroll (measured in the browser) and pass axe-core").

The pages are not a list kept here: per role the test starts at `/`, follows the links of the
navigation (every `<nav>` and sub-navigation, breadth-first, two levels deep) and, from each
page found, the first link of its tables (a ticket, a report, an organisation: one per route).
Pages other helpers add are covered as soon as a navigation links to them.

Each page (each route, checked for the first role that reaches it) is loaded once at 390 by
844 px: the browser measures `scrollWidth <= innerWidth` and axe runs; then the viewport
becomes 1366 by 768 px and axe runs again. axe-core is vendored in
`tests/vendor/axe-core/` (see VERSION.txt) and injected as an init script, which the page's
Content-Security-Policy does not see (the application never serves it).

`ACCESSIBILITY_SCREENSHOTS=1` also writes the PNGs of the portal list, a desk ticket and the
manager dashboard at both widths to `docs/screenshots/`."""

import os
from collections import deque
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import resolve
from django.urls.exceptions import Resolver404
from playwright.sync_api import Error as PlaywrightError

from accounts.middleware import RequireSecondFactorMiddleware
from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
NAV_DEPTH = 2  # home's navigation, then the sub-navigations of the pages it leads to
MAX_PAGES = 60  # per role; a role has ~25 today, the bound only stops a runaway walk

# One user per role of the demo data (the superuser, whose pages are Django's admin, is not
# among them). The consultant stands for staff that coordinate consultancy.
ROLES = [
    "user@voorbeeld.example",
    "coordinator@extra.example",
    "agent@sla-portal.example",
    "consultant@sla-portal.example",
    "manager@sla-portal.example",
]
# Not pages of the product, or not HTML: never followed.
SKIP_PREFIXES = ("/admin/", "/static/", "/media/", "/api/", "/i18n/", "/accounts/logout/", "/healthz")

# The links the walk follows: navigations, and the first link of a page's tables.
NAV_LINKS = """() => [...document.querySelectorAll(
    'nav a[href], .subnav a[href], #nav-profile, main a.button[href]')].map(a => a.getAttribute('href'))"""
DETAIL_LINKS = """() => [...document.querySelectorAll('main table a[href], main .detail-link')]
    .map(a => a.getAttribute('href'))"""
OVERFLOW = """() => {
    const root = document.documentElement;
    if (root.scrollWidth <= window.innerWidth) return null;
    // Name the widest elements that stick out, to say what to fix.
    const out = [];
    const clipped = el => {
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') return true;
        }
        return false;
    };
    for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 1 && r.width > 0 && !clipped(el)) {
            const cls = typeof el.className === 'string' && el.className
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
            const name = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}`;
            out.push(`${name} (right ${Math.round(r.right)})`);
        }
        if (out.length >= 6) break;
    }
    return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, sticking_out: out};
}"""
AXE_RUN = """async () => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
    return result.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
}"""


def _route(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _session_cookie(live_server, user: User) -> dict:
    """A logged-in session, second factor done: the login forms are tested elsewhere, here only
    the pages behind them matter."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[RequireSecondFactorMiddleware.SESSION_KEY] = True
    session.save()
    host = urlsplit(live_server.url).hostname
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "domain": host, "path": "/"}


def _same_origin_paths(base: str, current: str, hrefs: list[str]) -> list[str]:
    paths = []
    for href in hrefs:
        url = urlsplit(urljoin(current, href))
        if url.netloc and f"{url.scheme}://{url.netloc}" != base:
            continue
        if url.path.startswith(SKIP_PREFIXES) or _route(url.path) is None:
            continue
        paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


class Checker:
    """Loads pages in one tab and collects every problem with its page and width."""

    def __init__(self, context, base: str, role: str, checked_routes: set):
        self.page = context.new_page()
        self.page.set_default_timeout(20000)
        self.base = base
        self.role = role
        self.problems: list[str] = []
        # Routes checked for an earlier role: their template is the same, so this role only
        # follows their links (the suite must stay fast on a shared machine).
        self.checked_routes = checked_routes

    def check(self, path: str) -> tuple[list[str], list[str]] | None:
        """Check one page at both widths; answer its navigation and detail links."""
        page = self.page
        page.set_viewport_size(PHONE)
        try:
            response = page.goto(self.base + path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):  # a CSV or PDF link: not a page
                return None
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            return None
        if response.status >= 400:
            self.problems.append(f"{self.role} {path}: HTTP {response.status}")
            return None
        page.wait_for_load_state("load")
        current = urlsplit(page.url).path
        route = _route(current)
        if route not in self.checked_routes:
            self.checked_routes.add(route)
            if overflow := page.evaluate(OVERFLOW):
                self.problems.append(f"{self.role} {path} @390: horizontal scroll {overflow}")
            self._axe(path, 390)
            page.set_viewport_size(LAPTOP)
            self._axe(path, 1366)
        return (
            _same_origin_paths(self.base, current, page.evaluate(NAV_LINKS)),
            _same_origin_paths(self.base, current, page.evaluate(DETAIL_LINKS)),
        )

    def _axe(self, path: str, width: int) -> None:
        for violation in self.page.evaluate(AXE_RUN):
            self.problems.append(
                f"{self.role} {path} @{width}: {violation['impact']} {violation['id']}"
                f" ({violation['help']}) at {violation['targets']}"
            )


def _walk(checker: Checker) -> list[str]:
    """Breadth-first over the navigation; one page per route (a queue filtered by a query
    string is the same template), one detail page per route. Answers the pages seen."""
    seen_paths: set[str] = set()
    seen_routes: set[str | None] = set()
    detail_routes: set[str | None] = set()
    queue = deque([("/", 0)])
    details: list[str] = []
    while queue and len(seen_paths) < MAX_PAGES:
        path, depth = queue.popleft()
        route = _route(urlsplit(path).path)
        if path in seen_paths or (route in seen_routes and path != "/"):
            continue
        seen_paths.add(path)
        seen_routes.add(route)
        links = checker.check(path)
        if links is None:
            continue
        nav_paths, detail_paths = links
        if depth < NAV_DEPTH:
            queue.extend((p, depth + 1) for p in nav_paths if p not in seen_paths)
        for detail in detail_paths:
            detail_route = _route(urlsplit(detail).path)
            if detail_route not in detail_routes and detail_route not in seen_routes:
                detail_routes.add(detail_route)
                details.append(detail)
                break
    for path in details:
        if path not in seen_paths and len(seen_paths) < MAX_PAGES:
            seen_paths.add(path)
            checker.check(path)
    return sorted(seen_paths)


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def test_every_page_of_each_role_fits_a_phone_and_passes_axe(browser, live_server, demo):
    problems: list[str] = []
    walked: dict[str, list[str]] = {}
    checked_routes: set[str | None] = set()
    axe_source = AXE.read_text()
    for email in ROLES:
        user = User.objects.get(email=email)
        assert not user.is_superuser
        context = browser.new_context(locale="en-GB", viewport=PHONE)
        context.add_init_script(script=axe_source)
        context.add_cookies([_session_cookie(live_server, user)])
        checker = Checker(context, live_server.url, email, checked_routes)
        walked[email] = _walk(checker)
        problems += checker.problems
        context.close()
    assert not problems, f"{len(problems)} problems on {len(checked_routes)} pages:\n" + "\n".join(problems)
    for email, pages in walked.items():
        # The walk found the role's pages: its home, its navigation and a detail page.
        assert len(pages) >= 4, (email, pages)
    assert any("/portal/tickets/" in p for p in walked["user@voorbeeld.example"]), walked
    assert any("/desk/tickets/" in p for p in walked["agent@sla-portal.example"]), walked
    assert len(checked_routes) >= 20, checked_routes


@pytest.mark.skipif(os.environ.get("ACCESSIBILITY_SCREENSHOTS") != "1", reason="ACCESSIBILITY_SCREENSHOTS=1")
def test_screenshots_of_the_main_pages_at_both_widths(browser, live_server, demo):
    """The closing note's screenshots: `ACCESSIBILITY_SCREENSHOTS=1 pytest -k screenshots`."""
    from tickets.models import Ticket

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    ticket = Ticket.objects.order_by("pk").first()
    shots = [
        ("user@voorbeeld.example", "/portal/", "portal-list"),
        ("agent@sla-portal.example", f"/desk/tickets/{ticket.pk}/", "desk-ticket"),
        ("manager@sla-portal.example", "/manager/", "manager-dashboard"),
    ]
    for email, path, name in shots:
        context = browser.new_context(locale="en-GB")
        context.add_cookies([_session_cookie(live_server, User.objects.get(email=email))])
        page = context.new_page()
        for viewport in (PHONE, LAPTOP):
            page.set_viewport_size(viewport)
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            target = SCREENSHOT_DIR / f"{name}-{viewport['width']}.png"
            page.screenshot(path=str(target), full_page=viewport is LAPTOP)
            assert target.stat().st_size > 5000, target
        context.close()


def test_on_a_phone_the_top_bar_folds_into_a_menu_the_keyboard_opens(browser, live_server, agent):
    """At 390 px "Log out" and the language switch sit behind one "Menu" button (issue 17: they
    were off screen); Enter opens it, Escape closes it and gives the focus back."""
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    context.add_cookies([_session_cookie(live_server, agent)])
    page = context.new_page()
    page.goto(live_server.url + "/desk/")
    toggle = page.locator(".menu-toggle")
    log_out = page.get_by_role("button", name="Log out")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not log_out.is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert log_out.is_visible() and page.locator(".lang button").first.is_visible()
    box = log_out.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not log_out.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    # At 1366 px there is no menu button: the bar shows everything.
    page.set_viewport_size(LAPTOP)
    assert not toggle.is_visible() and log_out.is_visible()
    context.close()
