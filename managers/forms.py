"""Forms of the managers' pages and the customers' service pages."""

from datetime import timedelta

from django import forms
from django.forms import modelformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationTopic, Organisation
from sla.models import (
    ANNOUNCEMENT_TOPICS,
    Announcement,
    HostedProduct,
    MaintenanceWindow,
    Outage,
    PolicyVersion,
    PublishedFigure,
    ServiceLevel,
)
from sla_portal.forms import BoundedDateField, date_in_range

MAX_PERIOD_DAYS = 3 * 366  # a period longer than this is a mistake, and a slow one


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class PeriodForm(forms.Form):
    start = BoundedDateField(label=_("From"), widget=DateInput)
    end = BoundedDateField(label=_("Until"), widget=DateInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if end - start > timedelta(days=MAX_PERIOD_DAYS):
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data


class DashboardFilterForm(PeriodForm):
    level = forms.ModelChoiceField(
        ServiceLevel.objects.all(), required=False, label=_("Service level"), empty_label=_("All levels")
    )
    organisation = forms.ModelChoiceField(
        Organisation.objects.all(),
        required=False,
        label=_("Organisation"),
        empty_label=_("All organisations"),
    )


class ReportRequestForm(PeriodForm):
    organisation = forms.ModelChoiceField(Organisation.objects.all(), label=_("Organisation"))


class OutageForm(forms.ModelForm):
    """An outage; whether it counts is the service's decision (``outage_record``)."""

    class Meta:
        model = Outage
        fields = [
            "title",
            "starts_at",
            "ends_at",
            "products",
            "organisations",
            "maintenance",
            "force_majeure",
            "description",
        ]
        widgets = {
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "products": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "force_majeure": _(
                "Circumstances outside our sphere of influence (SLA §5.2), e.g. a digital attack, a "
                "general failure of vital infrastructure, a calamity or a problem at a supplier."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = HostedProduct.objects.all()
        self.fields["maintenance"].queryset = Announcement.objects.filter(
            topic=NotificationTopic.MAINTENANCE,
            maintenance_starts_at__isnull=False,
        ).order_by("-published_at")
        self.fields["maintenance"].empty_label = _("None: not announced maintenance")
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            self.fields[name].validators.append(date_in_range)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise forms.ValidationError(_("An outage ends after it starts."))
        return data


MaintenanceWindowFormSet = modelformset_factory(
    MaintenanceWindow,
    fields=["weekday", "starts", "ends", "timezone"],
    extra=1,
    can_delete=True,
    widgets={
        "starts": forms.TimeInput(attrs={"type": "time"}),
        "ends": forms.TimeInput(attrs={"type": "time"}),
    },
)


PublishedFigureFormSet = modelformset_factory(
    PublishedFigure,
    extra=1,
    can_delete=True,
    fields=["clock", "high_priority", "within_amount", "within_unit", "share_percent", "label", "position"],
)


class AvailabilityTargetForm(forms.Form):
    """The availability target belongs to a policy version (§5.2; document 000: 99.8%)."""

    policy_version = forms.ModelChoiceField(label=_("SLA version"), queryset=PolicyVersion.objects.all())
    percent = forms.DecimalField(
        label=_("Availability target (%)"), max_digits=5, decimal_places=2, min_value=0.01, max_value=100
    )

    def save(self) -> PolicyVersion:
        version = self.cleaned_data["policy_version"]
        version.availability_percent = self.cleaned_data["percent"]
        version.save(update_fields=["availability_percent"])
        return version


class AnnouncementForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=[(t.value, t.label) for t in ANNOUNCEMENT_TOPICS])
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}))
    release_notes = forms.CharField(
        label=_("Release notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For releases: what changed."),
    )
    maintenance_starts_at = forms.DateTimeField(
        label=_("Maintenance from"),
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_(
            "For planned maintenance: inside the maintenance window (Monday to Friday "
            "20:00-04:00, Saturday and Sunday; Amsterdam time)."
        ),
    )
    maintenance_ends_at = forms.DateTimeField(
        label=_("Maintenance until"),
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class PolicyAnnounceForm(forms.Form):
    document = forms.CharField(label=_("Document"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=200)
    effective_from = BoundedDateField(
        label=_("Takes effect on"), widget=DateInput, help_text=_("At least one month after today.")
    )
    notes = forms.CharField(label=_("What changes"), widget=forms.Textarea(attrs={"rows": 5}))


class ObjectionForm(forms.Form):
    motivation = forms.CharField(label=_("Your reasons"), widget=forms.Textarea(attrs={"rows": 5}))


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
