"""The SLA's vocabulary of tickets (SPEC §3, §4): the kinds its targets are set for and the
priority matrix of impact and urgency. The desk's tickets use them (tickets.choices re-exports)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    INFORMATION_REQUEST = "information_request", _("Information request")
    SERVICE_REQUEST = "service_request", _("Service request")
    ENHANCEMENT_REQUEST = "enhancement_request", _("Enhancement request")
    CHANGE = "change", _("Change")


class Priority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class Impact(models.IntegerChoices):
    I1 = 1, _("I-1: a large number (~80%) of users, data or processes cannot work")
    I2 = 2, _("I-2: a select number of users, data or processes cannot work")
    I3 = 3, _("I-3: a select number works, but with inconvenience")


class Urgency(models.IntegerChoices):
    U1 = 1, _("U-1: business cannot continue, or it coincides with a critical deadline")
    U2 = 2, _("U-2: business is seriously affected")
    U3 = 3, _("U-3: business is not seriously affected; a nuisance")
