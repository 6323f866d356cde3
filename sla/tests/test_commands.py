"""manage.py sla_deadline and sla_holidays, with deadlines computed by hand."""

import os
import subprocess
import sys
from datetime import date, time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sla.models import Calendar, Holiday, OpeningHours, ServiceLevel
from sla.seed import library_holidays

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def deadline(*args: str) -> str:
    out = StringIO()
    call_command("sla_deadline", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "level,start,target,expected",
    [
        # Friday 15:00, 10:00-16:00: 1 h on Friday; Saturday 26 April (King's Day) is a weekend
        # day anyway; Monday 10:00 + 3 h
        ("default", "2025-04-25T15:00", "4h", "2025-04-28T13:00:00+02:00"),
        # the same on 08:00-17:00: 2 h on Friday, Monday 08:00 + 2 h
        ("extended", "2025-04-25T15:00", "4h", "2025-04-28T10:00:00+02:00"),
        # the start's offset wins over the calendar's wall clock: 13:00 UTC is 15:00 in Amsterdam
        ("default", "2025-04-25T13:00+00:00", "4h", "2025-04-28T13:00:00+02:00"),
        ("default", "2025-04-25T13:00Z", "4h", "2025-04-28T13:00:00+02:00"),
        # Good Friday 18 and Easter Monday 21 April 2025 are closed: Thu 16-17, Tue 08-11
        ("extended", "2025-04-17T16:00", "4h", "2025-04-22T11:00:00+02:00"),
        # Liberation Day 2025 (a lustrum year) is closed on the seeded calendars
        ("default", "2025-05-02T15:00", "4h", "2025-05-06T13:00:00+02:00"),
        # 3 business days of 6 h: Wed 24 Dec 1 h, 25/26 Dec closed, Mon 29 6 h, Tue 30 6 h, Wed 31 5 h
        ("default", "2025-12-24T15:00", "3d", "2025-12-31T15:00:00+01:00"),
        # half an Extended business day is 4.5 h
        ("extended", "2026-11-23T08:00", "0.5d", "2026-11-23T12:30:00+01:00"),
        # started on a Saturday: counting starts at Monday's opening
        ("default", "2026-11-21T11:00", "30m", "2026-11-23T10:30:00+01:00"),
        # across the switch to summer time on Sunday 30 March 2025
        ("default", "2025-03-28T15:00", "4h", "2025-03-31T13:00:00+02:00"),
        # a deadline landing on closing time stays there
        ("default", "2026-11-23T12:00", "4h", "2026-11-23T16:00:00+01:00"),
    ],
)
def test_deadline_is_printed_as_iso_8601_in_amsterdam_time(level, start, target, expected):
    assert deadline("--level", level, "--start", start, "--target", target) == expected + "\n"


def test_a_custom_service_level_uses_its_own_calendar():
    # given a Saturday-morning desk
    calendar = Calendar.objects.create(name="Saturday desk")
    OpeningHours.objects.create(calendar=calendar, weekday=5, opens=time(9), closes=time(13))
    ServiceLevel.objects.create(code="saturday", name="Saturday", calendar=calendar)
    # when / then: Saturday 26 April 2025 is King's Day, so the first hours are on 3 May
    assert deadline("--level", "saturday", "--start", "2025-04-25T15:00", "--target", "2h") == (
        "2025-05-03T11:00:00+02:00\n"
    )


def test_explain_prints_the_counted_intervals_and_the_skipped_holidays():
    output = deadline("--level", "extended", "--start", "2025-04-17T16:00", "--target", "4h", "--explain")
    lines = output.splitlines()
    assert lines[0] == "2025-04-22T11:00:00+02:00"
    assert "  counted Thu 2025-04-17 16:00-17:00  1h00m" in lines
    assert "  counted Tue 2025-04-22 08:00-11:00  3h00m" in lines
    assert "  counted in total 4h00m" in lines
    assert "  skipped Fri 2025-04-18 Good Friday" in lines
    assert "  skipped Mon 2025-04-21 Easter Monday" in lines


def test_file_prints_one_deadline_per_case(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "level,start,target\n"
        "default,2025-04-25T15:00,4h\n"
        "extended,2025-04-25T15:00,4h\n"
        "\n"
        "extended,2026-11-23T08:00,0.5d\n"
    )
    assert deadline("--file", str(cases)).splitlines() == [
        "2025-04-28T13:00:00+02:00",
        "2025-04-28T10:00:00+02:00",
        "2026-11-23T12:30:00+01:00",
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--level", "gold", "--start", "2025-04-25T15:00", "--target", "4h"],
            "unknown service level 'gold' (known: default, extended)",
        ),
        (["--level", "default", "--start", "2025-04-31T15:00", "--target", "4h"], "cannot read start"),
        (["--level", "default", "--start", "yesterday", "--target", "4h"], "cannot read start 'yesterday'"),
        (
            ["--level", "default", "--start", "2025-04-25T15:00", "--target", "4 hours"],
            "cannot read duration",
        ),
        (["--level", "default", "--start", "2025-04-25T15:00", "--target=-4h"], "is negative"),
        (["--level", "default", "--start", "2025-04-25T15:00"], "missing --target"),
        # issue 12: these held the calculator for ~20 s, then overflowed
        (
            ["--level", "default", "--start", "2025-04-25T15:00", "--target", "99999999999d"],
            "target is too large",
        ),
        (["--level", "default", "--start", "9999-12-31T10:00", "--target", "4h"], "start must lie between"),
        (["--level", "default", "--start", "0001-01-01T10:00", "--target", "4h"], "start must lie between"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_code_2(args, message):
    with pytest.raises(CommandError) as error:
        call_command("sla_deadline", *args)
    assert error.value.returncode == 2
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "content,message",
    [
        ("level,start\ndefault,2025-04-25T15:00\n", "missing column(s) target"),
        (
            "level,start,target\ndefault,2025-04-25T15:00,4h\ngold,2025-04-25T15:00,4h\n",
            "line 3: unknown service level 'gold'",
        ),
        ("level,start,target\ndefault,,4h\n", "line 2: no start"),
        ("", "is empty"),
    ],
)
def test_bad_file_names_the_line_and_exits_with_2(tmp_path, content, message):
    cases = tmp_path / "cases.csv"
    cases.write_text(content)
    with pytest.raises(CommandError, match=r".") as error:
        call_command("sla_deadline", "--file", str(cases))
    assert error.value.returncode == 2 and message in str(error.value)


def run_manage(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBUG="1")
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "manage.py", *args]  # this interpreter and fixed arguments
    return subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_command_line_exits_with_2_and_one_line_on_stderr():
    result = run_manage("sla_deadline", "--level", "default", "--start", "25-04-2025 15:00", "--target", "4h")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "CommandError: cannot read start '25-04-2025 15:00'; expected ISO 8601 such as 2025-04-25T15:00 "
        "or 2025-04-25T15:00+02:00"
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only a PostgreSQL test database is visible to a second process"
)
def test_command_line_against_the_test_database():
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    ok = run_manage(
        "sla_deadline",
        "--level",
        "default",
        "--start",
        "2025-04-25T15:00",
        "--target",
        "4h",
        database_url=url,
    )
    assert (ok.returncode, ok.stdout) == (0, "2025-04-28T13:00:00+02:00\n")
    unknown = run_manage(
        "sla_deadline", "--level", "gold", "--start", "2025-04-25T15:00", "--target", "4h", database_url=url
    )
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "CommandError: unknown service level 'gold' (known: default, extended)"


def test_sla_holidays_adds_library_years_and_keeps_a_managers_choices():
    # given a holiday a manager switched off before the years were loaded
    Holiday.objects.create(date=date(2041, 12, 25), name="Kerstmis (we work)", active=False)
    versions = dict(Calendar.objects.values_list("pk", "version"))
    expected = {day for day, _name, _kind in library_holidays(range(2041, 2046))}
    # when
    out = StringIO()
    call_command("sla_holidays", "--years", "2041-2045", stdout=out)
    # then
    loaded = Holiday.objects.filter(date__year__gte=2041, date__year__lte=2045)
    assert set(loaded.values_list("date", flat=True)) == expected
    kept = Holiday.objects.get(date=date(2041, 12, 25))
    assert (kept.active, kept.name) == (False, "Kerstmis (we work)")
    assert loaded.get(date=date(2045, 5, 5)).kind == "liberation_day"  # a lustrum year
    assert f"Added {len(expected) - 1} holiday(s)" in out.getvalue()
    assert all(Calendar.objects.get(pk=pk).version == version + 1 for pk, version in versions.items())
    # and running it again adds nothing
    call_command("sla_holidays", "--years", "2041-2045", stdout=StringIO())
    assert loaded.count() == len(expected)


def test_sla_holidays_rejects_unreadable_years():
    with pytest.raises(CommandError) as error:
        call_command("sla_holidays", "--years", "2045-2041")
    assert error.value.returncode == 2
