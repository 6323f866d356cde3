"""Dates, times and numbers are written one way per language everywhere, the PDF included
(issue 17: today "2 Dec 2026 07:58", "Sept. 4, 2026", "12/02/2026 7:59 a.m." and
"100.000%" vs "100,000%" appear). English: "2 Dec 2026, 07:58", "99.8%"; Dutch:
"2 dec 2026 07:58", "99,8%". Also: the seeded level "Default" reads "Standaard" in Dutch, and
the Dutch texts address the reader with "u" only."""

import base64
import re
import zlib
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.utils import timezone, translation

from accounts.middleware import RequireSecondFactorMiddleware
from accounts.models import User
from sla.models import ServiceLevel
from sla_portal.formatting import date_text, datetime_text, percent_text

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONTHS_EN = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
MONTHS_NL = "jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec"
EXPECTED = {
    "en": re.compile(rf"\b\d{{1,2}} ({MONTHS_EN}) \d{{4}}, \d{{2}}:\d{{2}}\b"),
    "nl": re.compile(rf"\b\d{{1,2}} ({MONTHS_NL}) \d{{4}} \d{{2}}:\d{{2}}\b"),
}
# Forms that must not appear in what a page says (attributes such as datetime="" may be ISO).
FOREIGN = {
    "a.m./p.m.": re.compile(r"\b[ap]\.m\."),
    "Sept.": re.compile(r"\bSept\."),
    "month/day/year": re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"),
    "ISO date and time": re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
    "abbreviated month with a dot": re.compile(rf"\b({MONTHS_EN})\. \d"),
    "three decimals of a percentage": re.compile(r"\d[.,]\d{3}%"),
}


def _text(html: str) -> str:
    """What the page says: its text, without tags, scripts or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_moment_is_written_one_way_per_language():
    moment = datetime(2026, 12, 2, 7, 58, tzinfo=AMSTERDAM)
    september = datetime(2026, 9, 4, 19, 5, tzinfo=AMSTERDAM)
    with translation.override("en"):
        assert datetime_text(moment) == "2 Dec 2026, 07:58"
        assert datetime_text(september) == "4 Sep 2026, 19:05"
        assert date_text(date(2026, 9, 4)) == "4 Sep 2026"
        assert Template('{{ d|date:"SHORT_DATETIME_FORMAT" }} {{ d }}').render(Context({"d": moment})) == (
            "2 Dec 2026, 07:58 2 Dec 2026, 07:58"
        )
    with translation.override("nl"):
        assert datetime_text(moment) == "2 dec 2026 07:58"
        assert date_text(date(2026, 3, 4)) == "4 mrt 2026"
        assert Template('{{ d|date:"SHORT_DATE_FORMAT" }}').render(Context({"d": moment})) == "2 dec 2026"


def test_a_moment_in_utc_is_shown_in_amsterdam_time():
    with translation.override("en"):
        assert datetime_text(datetime(2026, 7, 1, 6, 0, tzinfo=ZoneInfo("UTC"))) == "1 Jul 2026, 08:00"


@pytest.mark.parametrize(
    ("language", "value", "decimals", "expected"),
    [
        ("en", Decimal("99.8"), 1, "99.8%"),
        ("nl", Decimal("99.8"), 1, "99,8%"),
        ("en", Decimal("100.000"), 1, "100.0%"),
        ("nl", 99.456, 2, "99,46%"),
        ("en", None, 1, "—"),
    ],
)
def test_a_percentage_has_one_form_per_language(language, value, decimals, expected):
    with translation.override(language):
        assert percent_text(value, decimals) == expected
        template = Template("{{ v|percent:" + str(decimals) + " }}")
        assert template.render(Context({"v": value})) == expected


@pytest.mark.django_db
def test_the_seeded_default_level_is_standaard_in_dutch_and_a_custom_level_keeps_its_name():
    default = ServiceLevel.objects.get(name="Default")
    custom = ServiceLevel(name="Maatwerk Plus", code="plus", calendar=default.calendar)
    with translation.override("nl"):
        assert str(default) == "Standaard"
        assert str(custom) == "Maatwerk Plus"
    with translation.override("en"):
        assert str(default) == "Default"


def test_the_dutch_texts_address_the_reader_with_u_only():
    po = (Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.po").read_text()
    informal = []
    for block in re.finditer(r'msgstr(?:\[\d\])? ((?:".*"\n?)+)', po):
        text = "".join(re.findall(r'"(.*)"', block.group(1)))
        if re.search(r"\b(je|jij|jou|jouw|jullie|jezelf)\b", text, re.IGNORECASE):
            informal.append(text)
    assert not informal, informal


def _log_in(client, user: User) -> None:
    client.force_login(user)
    session = client.session
    session[RequireSecondFactorMiddleware.SESSION_KEY] = True
    session.save()


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.parametrize("language", ["en", "nl"])
def test_key_pages_write_dates_and_numbers_one_way(client, demo, language):
    from tickets.models import Ticket

    ticket = Ticket.objects.order_by("pk").first()
    pages = {
        "agent@sla-portal.example": ["/desk/", f"/desk/tickets/{ticket.pk}/"],
        "manager@sla-portal.example": ["/manager/", "/manager/availability/"],
        "coordinator@voorbeeld.example": [
            "/portal/",
            "/portal/service/sla/",
            "/portal/service/availability/",
        ],
    }
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    found_expected = False
    for email, paths in pages.items():
        _log_in(client, User.objects.get(email=email))
        for path in paths:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, path
            text = _text(response.content.decode())
            for name, pattern in FOREIGN.items():
                assert not pattern.search(text), (path, language, name, pattern.search(text).group(0))
            found_expected |= bool(EXPECTED[language].search(text))
    assert found_expected, f"no date in the {language} form on the key pages"


def _pdf_text(pdf: bytes) -> str:
    """The PDF's page content: ReportLab writes its streams ASCII85- and Flate-encoded."""
    text = ""
    for stream in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.group(1).strip()
        try:
            text += zlib.decompress(base64.a85decode(data, adobe=True)).decode("latin-1")
        except (ValueError, zlib.error):
            text += data.decode("latin-1")
    return text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "period"),
    [("en", r"1 Sep 2026 - 30 Nov 2026"), ("nl", r"1 sep 2026 - 30 nov 2026")],
)
def test_the_pdf_report_writes_dates_the_same_way(language, period):
    from managers.reports import report_content, report_pdf
    from sla.tests.factories import organisation_on_level

    organisation = organisation_on_level("extended", name="Zorggroep Extra")
    now = timezone.make_aware(datetime(2026, 12, 2, 8, 0))
    with translation.override(language):
        content = report_content(
            organisation=organisation, start=date(2026, 9, 1), end=date(2026, 11, 30), now=now
        )
        text = _pdf_text(report_pdf(content))
    assert re.search(period, text), text[:2000]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "an ISO date in the PDF"
