"""Form parts every app's pages share."""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The dates a page accepts: none of our data predates 1990 and no contract runs past 2100.
# Outside them, turning a day into the aware instants of its start and end overflowed near
# datetime's limits (a 500 on /manager/ and its CSV for 9999-12-31, issue 12).
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_in_range(value: date | datetime | None) -> None:
    """Refuse a date (or the date of a datetime) outside EARLIEST_DATE..LATEST_DATE."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            _("Choose a date between %(first)s and %(last)s."),
            code="date_out_of_range",
            params={"first": EARLIEST_DATE.isoformat(), "last": LATEST_DATE.isoformat()},
        )


class BoundedDateField(forms.DateField):
    default_validators = [date_in_range]
