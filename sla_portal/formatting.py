"""Dates, times and numbers as people read them, in the active language: the named formats of
sla_portal/formats/<language>/formats.py (issue 17: one way per language everywhere, the
PDF and the mails included). Python code that writes a date into a message, a PDF or a mail
uses these instead of strftime or isoformat."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone


def datetime_text(value: datetime | None) -> str:
    """ "2 Dec 2026, 07:58" / "2 dec 2026 07:58", in the site's time zone."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")


def date_text(value: date | None) -> str:
    """ "2 Dec 2026" / "2 dec 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


def time_text(value) -> str:
    """ "07:58"."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.time_format(value, "TIME_FORMAT")


def percent_text(value: float | Decimal | None, decimals: int = 1) -> str:
    """ "99.8%" / "99,8%": one decimal unless told otherwise; "—" when there is no figure."""
    if value is None or value == "":
        return "—"
    # number_format cuts digits off; round half up first, as people do (99.95 -> 100.0).
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{formats.number_format(rounded, decimals)}%"
