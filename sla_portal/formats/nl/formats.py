"""Dutch dates and numbers, one way everywhere (issue 17): "2 dec 2026", "2 dec 2026 07:58",
"99,8%". The month is Django's lower-case abbreviation ("b": jan, mrt, mei, okt)."""

DATE_FORMAT = "j b Y"
DATETIME_FORMAT = "j b Y H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j b"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # maandag
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
