"""Forms of the SLA set-up pages: policy drafts and their targets, calendars, closure days."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from managers.forms import DateInput
from managers.policies import MAX_TARGET_AMOUNT
from sla.calendar_edits import WeeklyHours
from sla.models import ServiceLevelTerms, TargetUnit, Weekday
from sla_portal.forms import BoundedDateField


class PolicyDraftForm(forms.Form):
    document = forms.CharField(label=_("Document"), max_length=50, help_text=_("E.g. 002."))
    name = forms.CharField(label=_("Name"), max_length=200)
    notes = forms.CharField(label=_("What changes"), widget=forms.Textarea(attrs={"rows": 4}))


class PublishForm(forms.Form):
    effective_from = BoundedDateField(
        label=_("Takes effect on"), widget=DateInput, help_text=_("At least one month after today.")
    )


# What a level's terms may hold (ServiceLevelTerms), per field: (min, max) for numbers.
TERMS_BOUNDS = {"reports_per_year": (0, 52), "consultant_lead_days": (0, 365), "max_coordinators": (1, 100)}
TERMS_FLAGS = ("own_consultant", "channel_portal", "channel_mail", "channel_phone")


class DraftTargetsForm(forms.Form):
    """A draft's figures: one amount and unit per target (named by the target's id), each
    level's terms (named by the terms' id) and the availability target."""

    def __init__(self, *args, targets, terms=(), availability_percent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = list(targets)
        self.terms = list(terms)
        self.fields["availability_percent"] = forms.DecimalField(
            label=_("Availability target (%)"),
            required=False,
            min_value=Decimal("0.01"),
            max_value=100,
            max_digits=5,
            decimal_places=2,
            initial=availability_percent,
            widget=forms.NumberInput(attrs={"step": "0.01"}),
        )
        for row in self.terms:
            level = row.service_level.name
            for name, (low, high) in TERMS_BOUNDS.items():
                label = f"{level}: {ServiceLevelTerms._meta.get_field(name).verbose_name}"
                self.fields[f"l{row.pk}_{name}"] = forms.IntegerField(
                    label=label, min_value=low, max_value=high, initial=getattr(row, name)
                )
            for name in TERMS_FLAGS:
                label = f"{level}: {ServiceLevelTerms._meta.get_field(name).verbose_name}"
                self.fields[f"l{row.pk}_{name}"] = forms.BooleanField(
                    label=label, required=False, initial=getattr(row, name)
                )
        for target in self.targets:
            cell = (
                f"{target.service_level.name} {target.get_ticket_kind_display()} "
                f"{target.get_clock_display()} {target.get_priority_display()}"
            )
            self.fields[f"t{target.pk}_amount"] = forms.DecimalField(
                widget=forms.NumberInput(attrs={"aria-label": f"{cell}: {_('amount')}", "step": "0.01"}),
                label=_("Amount"),
                required=False,
                min_value=0,
                max_value=MAX_TARGET_AMOUNT,
                max_digits=7,
                decimal_places=2,
                initial=target.amount,
            )
            self.fields[f"t{target.pk}_unit"] = forms.ChoiceField(
                label=_("Unit"),
                choices=TargetUnit.choices,
                initial=target.unit,
                widget=forms.Select(attrs={"aria-label": f"{cell}: {_('unit')}"}),
            )

    def rows(self):
        """Per target: the target and its two bound fields, for the table."""
        for target in self.targets:
            yield target, self[f"t{target.pk}_amount"], self[f"t{target.pk}_unit"]

    def clean(self):
        data = super().clean()
        for target in self.targets:
            amount, unit = data.get(f"t{target.pk}_amount"), data.get(f"t{target.pk}_unit")
            if unit == TargetUnit.BEST_EFFORT and amount is not None:
                self.add_error(f"t{target.pk}_amount", _("Best effort has no amount; leave it empty."))
            elif unit and unit != TargetUnit.BEST_EFFORT and not amount:
                self.add_error(f"t{target.pk}_amount", _("Give an amount above 0."))
        return data

    def term_rows(self):
        """Per level's terms: the row and its bound fields."""
        for row in self.terms:
            yield row, [self[f"l{row.pk}_{name}"] for name in (*TERMS_BOUNDS, *TERMS_FLAGS)]

    def terms_figures(self) -> dict[int, dict]:
        """Terms id -> {field: value}, from valid data."""
        return {
            row.pk: {name: self.cleaned_data[f"l{row.pk}_{name}"] for name in (*TERMS_BOUNDS, *TERMS_FLAGS)}
            for row in self.terms
        }

    def figures(self) -> dict[int, tuple]:
        """Target id -> (amount, unit), from valid data."""
        return {
            t.pk: (self.cleaned_data[f"t{t.pk}_amount"], self.cleaned_data[f"t{t.pk}_unit"])
            for t in self.targets
        }

    def proposed(self) -> dict[tuple, tuple]:
        """The figures keyed as sla.whatif takes them."""
        figures = self.figures()
        return {(t.service_level_id, t.ticket_kind, t.priority, t.clock): figures[t.pk] for t in self.targets}


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


RANGES_PER_DAY = 2  # e.g. 08:00-12:00 and 13:00-17:00 with a lunch break


class OpeningHoursForm(forms.Form):
    """Up to two opening ranges per weekday; an empty weekday is closed."""

    def __init__(self, *args, weekly: WeeklyHours | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        weekly = weekly or {}
        for weekday, label in Weekday.choices:
            ranges = sorted(weekly.get(weekday, []))
            for n in range(RANGES_PER_DAY):
                opens, closes = ranges[n] if n < len(ranges) else (None, None)
                for part, value, part_label in (
                    ("opens", opens, _("opens")),
                    ("closes", closes, _("closes")),
                ):
                    self.fields[f"d{weekday}_{part}{n}"] = forms.TimeField(
                        label=f"{label} {part_label}" + (f" ({n + 1})" if n else ""),
                        required=False,
                        initial=value,
                        widget=TimeInput,
                    )

    def days(self):
        """Per weekday: its label and its (opens, closes) bound fields per range."""
        for weekday, label in Weekday.choices:
            yield (
                label,
                [
                    (self[f"d{weekday}_opens{n}"], self[f"d{weekday}_closes{n}"])
                    for n in range(RANGES_PER_DAY)
                ],
            )

    def clean(self):
        data = super().clean()
        weekly: WeeklyHours = {}
        for weekday, _label in Weekday.choices:
            for n in range(RANGES_PER_DAY):
                opens, closes = data.get(f"d{weekday}_opens{n}"), data.get(f"d{weekday}_closes{n}")
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(f"d{weekday}_opens{n}", _("Give both the opening and the closing time."))
                elif not opens < closes or opens.second or closes.second:
                    self.add_error(f"d{weekday}_closes{n}", _("Close after opening, on the same day."))
                else:
                    weekly.setdefault(weekday, []).append(
                        (opens.replace(microsecond=0), closes.replace(microsecond=0))
                    )
        if not self.errors and not weekly:
            raise ValidationError(_("A calendar needs opening hours on at least one weekday."))
        data["weekly"] = weekly
        return data


class ClosureDayForm(forms.Form):
    date = BoundedDateField(label=_("Date"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class HolidayForm(forms.Form):
    date = BoundedDateField(label=_("Date"), widget=DateInput)
    name = forms.CharField(label=_("Name"), max_length=100)
