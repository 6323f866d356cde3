"""The vocabularies of tickets (SPEC §3, §4), shared by the SLA engine's targets."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The SLA's own vocabulary (its priority matrix and targets), which tickets speak too.
from sla.choices import Impact, Priority, TicketKind, Urgency  # noqa: F401

# (field, language) -> {value: label}
_choice_labels: dict[tuple, dict] = {}


def choice_label(obj, name: str) -> str:
    """``obj.get_<name>_display()`` from a table built once per field and language: Django's
    own rebuilds and hashes the lazy choices on every call, ~0.3 ms each, which was a third of
    a 25-row list page (bench/desk.py, profiled)."""
    field = obj._meta.get_field(name)
    key = (field, get_language())
    labels = _choice_labels.get(key)
    if labels is None:
        labels = _choice_labels[key] = {value: str(label) for value, label in field.flatchoices}
    value = getattr(obj, field.attname)
    return labels.get(value, value)


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting change approval")


#: Statuses in which support still owes the customer something: the desk queue's default.
ACTIVE_STATUSES = ("new", "open", "waiting_on_customer", "awaiting_approval")


class Hosting(models.TextChoices):
    """SPEC §6: where the affected installation runs; on-premises the customer is responsible
    for infrastructure, capacity, security and testing connector updates."""

    CLOUD = "cloud", _("Cloud (hosted by us)")
    ON_PREMISES = "on_premises", _("On-premises Data Manager")
    QIXIUM_AGENT = "qixium_agent", _("Qixium Agent in our environment")


class Nature(models.TextChoices):
    """What the problem is about, asked at the door so that what is not covered is said there."""

    TECHNICAL = "technical", _("Technical: the software or its installation does not work")
    FUNCTIONAL = "functional", _("Functional: how the software is used or configured")
    DATA = "data", _("Data: the content of our data is wrong")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    MAIL = "mail", _("Mail")
    PHONE = "phone", _("Phone")


class MailDraftStatus(models.TextChoices):
    """A mail that is not yet a ticket (SPEC §1): a coordinator registers it or discards it."""

    PENDING = "pending", _("Waiting for a coordinator")
    REGISTERED = "registered", _("Registered")
    DISCARDED = "discarded", _("Discarded")


class ChangeType(models.TextChoices):
    """SPEC §3 (§4 of the SLA)."""

    STANDARD = "standard", _("Standard: a known procedure, pre-approved")
    NORMAL = "normal", _("Normal: goes through approval by a support manager")
    URGENT = "urgent", _("Urgent: as soon as possible, e.g. a security fix")


class ProcessStep(models.TextChoices):
    """The 13 steps of the support process (SPEC §5); a ticket records the step it is in."""

    REGISTER_TICKET = "register_ticket", _("1. Register ticket")
    REGISTER_CUSTOMER = "register_customer", _("2. Register customer")
    CLASSIFY = "classify", _("3. Classify ticket")
    DETERMINE_PROBLEM = "determine_problem", _("4. Determine problem and type")
    AGREE_CONSULTANCY = "agree_consultancy", _("5. Agree consultancy")
    REGISTER_BUG = "register_bug", _("6. Register bug")
    TEST_BUG = "test_bug", _("7. Test and rework bug")
    PLAN_WITH_CUSTOMER = "plan_with_customer", _("8. Plan with customer")
    PLAN_CONSULTANCY = "plan_consultancy", _("9. Plan consultancy")
    INFORM_CUSTOMER = "inform_customer", _("10. Inform customer")
    DETERMINE_TODO = "determine_todo", _("11. Determine to-do")
    CUSTOMER_INFORMS = "customer_informs", _("12. Customer informs vendor")
    UPDATE_TICKET = "update_ticket", _("13. Update and close ticket")


class RaciRole(models.TextChoices):
    """The roles of SPEC §5's RACI table; ``accounts.Role`` maps onto them."""

    CUSTOMER = "customer", _("Customer")
    SUPPORT = "support", _("Support")
    CONSULTANT = "consultant", _("Consultant")
    MANAGER = "manager", _("Support manager")


class RaciLetter(models.TextChoices):
    RESPONSIBLE = "R", _("Responsible: performs the step")
    ACCOUNTABLE = "A", _("Accountable: may perform and answers for the step")
    CONSULTED = "C", _("Consulted: asked for input, may comment")
    INFORMED = "I", _("Informed: notified")


class Clarity(models.TextChoices):
    CLEAR = "clear", _("Clear: a known item, an existing bug or a request for information")
    UNCLEAR = "unclear", _("Unclear: we need more information from the customer")


class ProblemType(models.TextChoices):
    BUG = "bug", _("Bug")
    CONFIGURATION = "configuration", _("Configuration")
    QUESTION = "question", _("Question")
    NOT_COVERED = "not_covered", _("Not covered by support")


class ConsultancyDecision(models.TextChoices):
    AGREED = "agreed", _("Agreed: paid help from a consultant")
    DECLINED = "declined", _("Declined: the customer solves it")


class Todo(models.TextChoices):
    CONSULTANCY = "consultancy", _("Consultancy: the customer books the consultant")
    CUSTOMER_SESSION = "customer_session", _("Support: a session with the customer is planned")


class BugStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    IN_DEVELOPMENT = "in_development", _("In development")
    IN_TEST = "in_test", _("In test")
    FIXED = "fixed", _("Fixed")


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    QUESTION = "question", _("Question to the customer")
    CUSTOMER = "customer", _("Customer message")
    NOTE = "note", _("Internal note")


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
