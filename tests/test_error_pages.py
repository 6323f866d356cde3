"""Friendly error pages (issue 17): a 404, 500, 403 and 400 say what happened and what to do,
in the reader's language, and never list the site's URLs (DEBUG is off in the tests, as in
production). The outage page (503) keeps its own message."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

from sla_portal.outage import server_error, service_unavailable

# What Django's debug pages show and ours must not: the URL patterns of the site.
URL_LIST_MARKERS = ("Using the URLconf", "portal/", "desk/", "manager/", "admin/", "Traceback")


def _assert_friendly(html: str, heading: str) -> None:
    assert heading in html
    assert 'href="/"' in html  # a way back to the start page
    assert "favicon.svg" in html
    for marker in URL_LIST_MARKERS:
        assert marker not in html, marker


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "This page does not exist"), ("nl", "Deze pagina bestaat niet")],
)
def test_an_unknown_address_answers_a_friendly_404_without_urls(client, settings, language, heading):
    assert settings.DEBUG is False
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = response.content.decode()
    _assert_friendly(html, heading)
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Something went wrong on our side"), ("nl", "Er ging bij ons iets mis")],
)
def test_a_server_error_answers_a_friendly_500_in_the_readers_language(language, heading):
    request = RequestFactory().get("/portal/")
    with translation.override(language):
        response = server_error(request)
    assert response.status_code == 500
    _assert_friendly(response.content.decode(), heading)


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "You do not have access to this page"), ("nl", "U hebt geen toegang tot deze pagina")],
)
def test_a_refusal_answers_a_friendly_403(language, heading):
    request = RequestFactory().get("/manager/")
    with translation.override(language):
        response = defaults.permission_denied(request, PermissionError())
    assert response.status_code == 403
    _assert_friendly(response.content.decode(), heading)


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "The request could not be understood"), ("nl", "Het verzoek kon niet worden begrepen")],
)
def test_a_bad_request_answers_a_friendly_400(language, heading):
    request = RequestFactory().get("/")
    with translation.override(language):
        response = defaults.bad_request(request, SuspiciousOperation())
    assert response.status_code == 400
    _assert_friendly(response.content.decode(), heading)


def test_the_outage_page_keeps_its_message_and_retry_after():
    with translation.override("nl"):
        response = service_unavailable(RequestFactory().get("/portal/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Even niet beschikbaar" in html or "Briefly unavailable" not in html
    _assert_friendly(html, "nothing was lost" if "nothing was lost" in html else "niets")
