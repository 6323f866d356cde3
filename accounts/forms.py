from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountRequest


class AccountRequestForm(forms.ModelForm):
    class Meta:
        model = AccountRequest
        fields = ["full_name", "email", "organisation_name", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"organisation_name": _("The customer organisation you work for.")}


class AccountRequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
