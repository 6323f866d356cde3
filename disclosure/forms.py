from django import forms
from django.utils.translation import gettext_lazy as _


class VulnerabilityReportForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), max_length=200)
    details = forms.CharField(
        label=_("What you found"),
        max_length=20_000,  # a report, not an upload: long enough for steps and a proof of concept
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("How to reproduce it, what an attacker could do, and anything else that helps."),
    )
    affected_url = forms.CharField(label=_("Affected address (optional)"), max_length=500, required=False)
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=200, required=False)
    reporter_email = forms.EmailField(
        label=_("Your e-mail address (optional)"),
        required=False,
        help_text=_("So that we can ask questions and tell you when it is fixed."),
    )
