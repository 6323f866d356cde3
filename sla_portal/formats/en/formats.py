"""English dates and numbers, one way everywhere (issue 17): "2 Dec 2026", "2 Dec 2026, 07:58",
24-hour times, "99.8%". Django's own English formats mix "Dec. 2, 2026", "12/02/2026" and
"7:59 a.m."; the short formats are the long ones here so no page shows another form."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday, as the SLA's business week
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
