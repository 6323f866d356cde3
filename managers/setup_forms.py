"""Forms of the set-up pages: they parse and bound the input; the rules are the services'
(``managers.setup``)."""

from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from managers.forms import DateInput
from managers.setup import MAX_CARD_HOURS, MIN_CARD_HOURS
from sla.models import ServiceLevel, Weekday
from sla_portal.forms import BoundedDateField
from tickets.choices import ProcessStep, RaciLetter, RaciRole


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    mfa_required = forms.BooleanField(
        label=_("Two-factor authentication required for every user"),
        required=False,
        help_text=_("Switching it on revokes the API tokens of the organisation's users."),
    )


class ContractForm(forms.Form):
    service_level = forms.ModelChoiceField(ServiceLevel.objects.all(), label=_("Service level"))
    valid_from = BoundedDateField(label=_("Valid from"), widget=DateInput)
    valid_until = BoundedDateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput,
        help_text=_("Empty: until further notice. The last day is included."),
    )


class OrganisationCreateForm(OrganisationForm, ContractForm):
    """A new organisation with its first contract."""


class ProductForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"), max_length=50, help_text=_("Fixed once made: the API and its clients send it.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    consultancy_for_functional = forms.BooleanField(
        label=_("Functional problems are consultancy"), required=False
    )
    active = forms.BooleanField(label=_("Offered in the portal"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)


class ModuleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=50, help_text=_("Fixed once made."))
    name = forms.CharField(label=_("Name"), max_length=200)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)


class HoursCardForm(forms.Form):
    hours = forms.DecimalField(
        label=_("Hours bought"),
        max_digits=7,
        decimal_places=2,
        min_value=MIN_CARD_HOURS,
        max_value=MAX_CARD_HOURS,
        widget=forms.NumberInput(attrs={"step": "0.25"}),
    )
    purchased_on = BoundedDateField(label=_("Bought on"), widget=DateInput)
    valid_until = BoundedDateField(
        label=_("Valid until"), required=False, widget=DateInput, help_text=_("Empty: no end date.")
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


def _timezones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class MaintenanceWindowForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    starts = forms.TimeField(
        label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends = forms.TimeField(
        label=_("Ends"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Not after the start: the next day (20:00-04:00; 00:00-00:00 is the whole day)."),
    )
    timezone = forms.ChoiceField(label=_("Timezone"), choices=_timezones, initial="Europe/Amsterdam")


class RaciForm(forms.Form):
    """The table as a grid: a letter (or nothing) per step and role."""

    digest = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, cells: dict[tuple[str, str], str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((letter, letter) for letter in RaciLetter.values)]
        for step, step_label in ProcessStep.choices:
            for role, role_label in RaciRole.choices:
                name = self.cell_name(step, role)
                self.fields[name] = forms.ChoiceField(
                    label=f"{step_label} — {role_label}",
                    choices=choices,
                    required=False,
                    initial=(cells or {}).get((step, role), ""),
                    widget=forms.Select(attrs={"aria-label": f"{step_label} — {role_label}"}),
                )

    @staticmethod
    def cell_name(step: str, role: str) -> str:
        return f"{step}__{role}"

    def cells(self) -> dict[tuple[str, str], str]:
        return {
            (step, role): self.cleaned_data.get(self.cell_name(step, role)) or ""
            for step in ProcessStep.values
            for role in RaciRole.values
        }

    def rows(self):
        """For the template: each step's label with its row of bound fields, in role order."""
        return [
            (label, [self[self.cell_name(step, role)] for role in RaciRole.values])
            for step, label in ProcessStep.choices
        ]
