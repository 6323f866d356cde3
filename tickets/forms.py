"""Forms of the portal and the desk. They parse input; the services decide."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
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


class TicketForm(forms.Form):
    """A form acting on one ticket: carries the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        kwargs.setdefault("initial", {})
        if ticket is not None:
            kwargs["initial"].setdefault("version", ticket.version)
        super().__init__(*args, **kwargs)


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
    body = forms.CharField(label=_("Public reply"), widget=forms.Textarea(attrs={"rows": 4}))
    attachments = _attachments_field()


class NoteForm(TicketForm):
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
