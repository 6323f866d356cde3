"""The Content-Security-Policy (issue 12, medium finding): a strict policy on every page, no
inline script or style left in our templates, the API docs under the policy, and attachments
downloaded through the API with the page route's `sandbox` and `no-store`."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from tests.test_pages_never_fail import concrete_paths, page_routes, world  # noqa: F401 - a fixture
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:]) for d in header.split(";") if d.strip()}


def assert_strict(response, where: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{where}: no Content-Security-Policy"
    policy = directives(header)
    for name, value in STRICT.items():
        assert policy.get(name) == value, f"{where}: {name} is {policy.get(name)!r}"
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, where


def test_every_page_of_every_role_and_the_public_ones_send_the_strict_policy(world):  # noqa: F811
    cases = 0
    clients = {**world["clients"], "anonymous": Client()}
    for role, client in clients.items():
        for route in sorted(page_routes()):
            for path in concrete_paths(route, world["pks"]["mine"]):
                response = client.get(path)
                if response.get("Content-Disposition", "").startswith("attachment"):
                    continue  # files carry their own policy (below)
                assert_strict(response, f"GET {path} as {role}: {response.status_code}")
                cases += 1
    for path in ["/accounts/login/", "/accounts/password/reset/", "/api/v1/", "/api/schema/", "/healthz"]:
        assert_strict(Client().get(path), path)
    assert cases > 100


def test_no_template_holds_inline_script_handlers_or_style():
    """Scripts and styles live in static/: a strict policy would refuse them inline. Mail
    templates are read in mail clients, which take only inline styles and know no CSP."""
    found = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if "email" in template.parts:
            continue
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>",
            r"<style",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"javascript:",
        ):
            found += [f"{template.name}: {m[0]}" for m in re.finditer(pattern, text, re.IGNORECASE)]
    assert found == []


def test_the_api_docs_load_their_script_and_styles_from_files_under_the_policy():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert_strict(response, "/api/docs/")
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert "<style" not in html
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html)[1].replace("&amp;", "&")
    response = Client().get(script)
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()
    assert "/static/api/swagger_ui.css" in html  # (the browser test loads it all in Chromium)


def test_attachments_downloaded_through_the_api_are_sandboxed_and_not_stored(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    coordinator = coordinator_on("extended")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    upload = SimpleUploadedFile("drawing.xml", svg, content_type="image/svg+xml")
    ticket = register(coordinator, title="With a file", attachments=[upload])
    attachment = ticket.attachments.get()
    api = APIClient()
    api.force_authenticate(coordinator)
    via_api = api.get(f"/api/v1/attachments/{attachment.pk}/download/")
    browser = Client()
    browser.force_login(coordinator)
    via_page = browser.get(f"/portal/attachments/{attachment.pk}/")
    assert via_api.status_code == via_page.status_code == 200
    for response in (via_api, via_page):
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Disposition"].startswith("attachment")


def test_the_policy_is_the_documented_one():
    header = Client().get("/accounts/login/")["Content-Security-Policy"]
    assert directives(header) == {
        **STRICT,
        "img-src": "'self' data:",  # allauth's TOTP QR code, Swagger UI's icons
        "form-action": "'self'",
    }
