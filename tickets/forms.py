"""Forms of the portal and the desk. They parse input; the services decide."""

from django import forms
from django.forms.utils import flatatt
from django.template.loader import get_template
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    SUBSCRIBABLE_TOPICS,
    NotificationTopic,
    Organisation,
    Role,
    User,
    subscribable_topics,
)
from sla.models import ServiceLevel
from sla_portal.forms import BoundedDateField
from tickets.choices import (
    BugStatus,
    ChangeType,
    Channel,
    Clarity,
    Hosting,
    Impact,
    Nature,
    Priority,
    ProblemType,
    TicketKind,
    TicketStatus,
    Todo,
    Urgency,
)
from tickets.models import BugReference, Module, Product, ReprioritisationRequest
from tickets.services import attachment_validate


class CompactSelect(forms.Select):
    """A flat ``<select>`` rendered in Python. Django renders every option through a template,
    and the queue filter's 200 organisations made that a third of the desk page at a million
    tickets (bench/desk.py, profiled)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if str(choice) in selected else "", label)
                for choice, label in self.choices
            ),
        )
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        files = [super(MultipleFileField, self).clean(file, initial) for file in files]
        try:
            attachment_validate(files)
        except forms.ValidationError as exc:  # the service names the field; here it is this one
            raise forms.ValidationError(exc.message_dict["attachments"]) from exc
        return files


def _attachments_field():
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots, logs or documents (see the limits below the form)."),
    )


# The visible fields of the forms that are the same on every ticket, rendered once per process:
# {(form class, auto_id, language): markup}.
_FIELDS_HTML: dict[tuple, str] = {}


class TicketForm(forms.Form):
    """A form acting on one ticket: carries the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # True where the visible fields do not depend on the ticket (no initial values of their
    # own, no choices from the database): every desk ticket page shows such a form, and
    # rendering its widgets was a tenth of the page's time (bench/workspace.py).
    same_on_every_ticket = False

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        kwargs.setdefault("initial", {})
        if ticket is not None:
            kwargs["initial"].setdefault("version", ticket.version)
        super().__init__(*args, **kwargs)

    def visible_fields_html(self) -> str | None:
        """The visible fields' markup for ``tickets/_form.html`` when the form is unbound and
        the same on every ticket (rendered once per process and language); None otherwise."""
        if (
            not self.same_on_every_ticket
            or self.is_bound
            or any(self.initial.get(name) for name in self.fields if name != "version")
        ):
            return None
        key = (type(self), self.auto_id, get_language())
        html = _FIELDS_HTML.get(key)
        if html is None:
            html = _FIELDS_HTML[key] = get_template("tickets/_form_fields.html").render({"form": self})
        return html


# --- portal ---------------------------------------------------------------------------------


class TicketRegisterForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=TicketKind.choices, initial=TicketKind.INCIDENT)
    change_type = forms.ChoiceField(
        label=_("Change type"),
        choices=[("", "-"), *ChangeType.choices],
        required=False,
        help_text=_("Only for a change."),
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True), empty_label=_("Choose a product")
    )
    module = forms.ModelChoiceField(
        label=_("Module"),
        queryset=Module.objects.select_related("product"),
        required=False,
        empty_label=_("Not sure / not applicable"),
    )
    hosting = forms.ChoiceField(
        label=_("Where is the affected installation hosted?"),
        choices=Hosting.choices,
        widget=forms.RadioSelect,
        initial=Hosting.CLOUD,
    )
    nature = forms.ChoiceField(
        label=_("What is the problem about?"),
        choices=Nature.choices,
        widget=forms.RadioSelect,
        initial=Nature.TECHNICAL,
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, widget=forms.RadioSelect
    )
    suggested_impact = forms.TypedChoiceField(
        label=_("Impact (your suggestion; support decides)"),
        choices=Impact.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, what you expected, since when, and who is affected."),
    )
    attachments = _attachments_field()

    def clean(self):
        data = super().clean()
        if data.get("kind") == TicketKind.CHANGE and not data.get("change_type"):
            self.add_error("change_type", _("Choose the type of change."))
        if data.get("kind") != TicketKind.CHANGE:
            data["change_type"] = ""
        return data


class MailDraftRegisterForm(TicketRegisterForm):
    """Registering a mail draft (SPEC §1): the portal form, prefilled from the mail; the mail's
    attachments are taken over as they are."""

    attachments = None

    def __init__(self, *args, draft=None, **kwargs):
        if draft is not None:
            kwargs.setdefault("initial", {}).update(title=draft.subject, description=draft.body)
        super().__init__(*args, **kwargs)


class CustomerMessageForm(TicketForm):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}))
    attachments = _attachments_field()


class ReprioritiseForm(TicketForm):
    priority = forms.TypedChoiceField(label=_("Priority you ask for"), choices=Priority.choices, coerce=int)
    reason = forms.CharField(label=_("Why?"), widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmForm(TicketForm):
    pass


class SatisfactionForm(TicketForm):
    """The one question of issue 17: 1 to 5, and an optional comment."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with how this ticket was handled?"),
        choices=[
            (1, _("1 - very dissatisfied")),
            (2, _("2 - dissatisfied")),
            (3, _("3 - neutral")),
            (4, _("4 - satisfied")),
            (5, _("5 - very satisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(TicketForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class PreferencesForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Send me e-mail about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(topic.value, topic.label) for topic in SUBSCRIBABLE_TOPICS],
    )
    notification_digest = forms.BooleanField(
        label=_("Send ticket updates as one daily digest"),
        required=False,
        help_text=_(
            "One e-mail each morning with the updates since the last one, instead of one per update."
        ),
    )

    def __init__(self, *args, user: User | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["topics"].choices = [
                (topic, NotificationTopic(topic).label) for topic in subscribable_topics(user)
            ]


# --- desk -----------------------------------------------------------------------------------


class AssignForm(TicketForm):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        empty_label=_("Nobody"),
        queryset=User.objects.filter(
            role__in=[Role.AGENT, Role.CONSULTANT, Role.MANAGER], is_active=True
        ).order_by("full_name"),
    )


class ReplyForm(TicketForm):
    same_on_every_ticket = True
    body = forms.CharField(label=_("Public reply"), widget=forms.Textarea(attrs={"rows": 4}))
    attachments = _attachments_field()


class NoteForm(TicketForm):
    same_on_every_ticket = True
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(
        label=_("Source"),
        initial=Channel.PORTAL,
        choices=[
            (Channel.PORTAL, _("Note")),
            (Channel.PHONE, _("Phone call (logged only: never registers a ticket)")),
        ],
    )
    attachments = _attachments_field()


class ClassifyForm(TicketForm):
    clarity = forms.ChoiceField(label=_("Classification"), choices=Clarity.choices, widget=forms.RadioSelect)
    question = forms.CharField(
        label=_("Question to the customer (if unclear)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QuestionForm(TicketForm):
    question = forms.CharField(label=_("Question to the customer"), widget=forms.Textarea(attrs={"rows": 2}))


class PriorityForm(TicketForm):
    impact = forms.TypedChoiceField(label=_("Impact"), choices=Impact.choices, coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Urgency.choices, coerce=int)
    priority = forms.TypedChoiceField(
        label=_("Override the priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("No: use the matrix")), *Priority.choices],
    )
    reason = forms.CharField(label=_("Reason (needed for an override)"), required=False, max_length=500)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is not None:
            self.initial.setdefault("impact", ticket.impact)
            self.initial.setdefault("urgency", ticket.urgency)


class ProblemForm(TicketForm):
    problem_type = forms.ChoiceField(label=_("Problem type"), choices=ProblemType.choices)


class ConsultancyAgreeForm(TicketForm):
    agreed = forms.TypedChoiceField(
        label=_("Does the customer want paid help?"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Yes: agree the hours")), ("no", _("No: the customer solves it"))],
        widget=forms.RadioSelect,
    )
    hours = forms.DecimalField(
        label=_("Estimate (hours)"), required=False, min_value=0, max_digits=6, decimal_places=2
    )


class BugForm(TicketForm):
    reference = forms.CharField(label=_("Reference (PBI)"), max_length=100)
    url = forms.URLField(label=_("Link"), required=False, assume_scheme="https")


class BugStatusForm(TicketForm):
    bug = forms.ModelChoiceField(label=_("Bug"), queryset=BugReference.objects.none())
    status = forms.ChoiceField(label=_("Status"), choices=BugStatus.choices)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is not None:
            self.fields["bug"].queryset = BugReference.objects.filter(ticket=ticket)


class PlanForm(TicketForm):
    planned_for = BoundedDateField(label=_("Planned for"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Message to the customer"), widget=forms.Textarea(attrs={"rows": 2}))


class ConsultancyPlanForm(TicketForm):
    consultant = forms.ModelChoiceField(
        label=_("Consultant"),
        queryset=User.objects.filter(role=Role.CONSULTANT, is_active=True).order_by("full_name"),
    )
    on = BoundedDateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))


class HoursForm(TicketForm):
    hours = forms.DecimalField(label=_("Hours"), min_value=0, max_digits=6, decimal_places=2)
    on = BoundedDateField(label=_("Delivered on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ResolveForm(TicketForm):
    resolution = forms.CharField(
        label=_("Resolution (sent to the customer)"), widget=forms.Textarea(attrs={"rows": 3})
    )


class TodoForm(TicketForm):
    todo = forms.ChoiceField(label=_("To-do"), choices=Todo.choices)
    note = forms.CharField(
        label=_("Message to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApproveForm(TicketForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ReprioritisationDecideForm(TicketForm):
    request = forms.ModelChoiceField(
        queryset=ReprioritisationRequest.objects.none(), widget=forms.HiddenInput
    )
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        choices=[("yes", _("Accept")), ("no", _("Decline"))],
    )
    note = forms.CharField(label=_("Note to the customer"), required=False, max_length=500)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is not None:
            self.fields["request"].queryset = ReprioritisationRequest.objects.filter(ticket=ticket)


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=CompactSelect,
        choices=[("active", _("Active")), *TicketStatus.choices, ("all", _("All"))],
    )
    assigned = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        widget=CompactSelect,
        choices=[("", _("Anyone")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))],
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        widget=CompactSelect,
        choices=[
            ("", _("Any")),
            ("at_risk", _("At risk")),
            ("breached", _("Breached")),
            ("waiting", _("Waiting on customer")),
            ("replied", _("Customer replied")),
        ],
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), required=False, widget=CompactSelect, queryset=Organisation.objects.all()
    )
    service_level = forms.ModelChoiceField(
        label=_("Service level"), required=False, widget=CompactSelect, queryset=ServiceLevel.objects.all()
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, widget=CompactSelect, choices=[("", _("Any")), *TicketKind.choices]
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        widget=CompactSelect,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *Priority.choices],
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, widget=CompactSelect, queryset=Product.objects.all()
    )


class PortalFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("active", _("Active")), *TicketStatus.choices],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any")), *TicketKind.choices])


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Save these filters as"), max_length=100)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)


class CoordinatorForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), widget=forms.HiddenInput)
    make = forms.TypedChoiceField(
        coerce=lambda v: v == "yes", choices=[("yes", "yes"), ("no", "no")], widget=forms.HiddenInput
    )


class ConsultancyRequestForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("Hours"), min_value=0.25, max_digits=6, decimal_places=2)
    purpose = forms.CharField(label=_("What for"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


# --- the desk workspace: bulk actions and macros --------------------------------------------

# At most this many tickets per bulk action: each goes through its service in a transaction
# of its own, and the result page lists every one.
BULK_MAX = 100


class BulkActionForm(forms.Form):
    """One action on the tickets ticked in the queue; each is applied through its service."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    action = forms.ChoiceField(
        label=_("With the selected tickets"),
        choices=[
            ("assign", _("Assign to")),
            ("assign_me", _("Assign to me")),
            ("priority", _("Set the priority (with a reason)")),
            ("close", _("Close (with a reason)")),
        ],
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        empty_label=_("Nobody"),
        queryset=AssignForm.base_fields["assignee"].queryset,
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "-"), *Priority.choices],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any whole number: the tickets that exist are looked up after validation.
        self.fields["ids"].valid_value = lambda value: True

    def clean_ids(self):
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if not ids:
            raise forms.ValidationError(_("Select at least one ticket."))
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(_("Select at most %(max)d tickets at a time.") % {"max": BULK_MAX})
        return ids

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "priority" and data.get("priority") is None:
            self.add_error("priority", _("Choose the priority."))
        if action in ("priority", "close") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason: the customer and the history see it."))
        return data


class MacroForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    body_nl = forms.CharField(
        label=_("Text in Dutch"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    body_en = forms.CharField(
        label=_("Text in English"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    shared = forms.BooleanField(label=_("Shared with all support staff"), required=False)
