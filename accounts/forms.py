from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountRequest, NotificationTopic, Organisation, Role, subscribable_topics
from sla.models import ServiceLevel


class AccountRequestForm(forms.ModelForm):
    class Meta:
        model = AccountRequest
        fields = ["full_name", "email", "organisation_name", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"organisation_name": _("The customer organisation you work for.")}


class AccountRequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AccountRequestApproveForm(forms.Form):
    """How a support manager approves a request: into an existing organisation, or a new one
    with its contract, as customer user or coordinator."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label=_("New organisation (below)"),
    )
    organisation_name = forms.CharField(label=_("New organisation's name"), max_length=200, required=False)
    service_level = forms.ModelChoiceField(
        label=_("Service level of its contract"),
        queryset=ServiceLevel.objects.order_by("name"),
        required=False,
    )
    contract_from = forms.DateField(
        label=_("Contract starts on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(Role.CUSTOMER_USER, Role.CUSTOMER_USER.label), (Role.COORDINATOR, Role.COORDINATOR.label)],
        initial=Role.CUSTOMER_USER,
    )

    def clean(self):
        data = super().clean()
        if data.get("organisation") is None:
            if not (data.get("organisation_name") or "").strip():
                self.add_error("organisation_name", _("Choose an organisation or name a new one."))
            if data.get("service_level") is None:
                self.add_error(
                    "service_level", _("A new organisation needs the service level of its contract.")
                )
        return data


class SsoLoginForm(forms.Form):
    email = forms.EmailField(label=_("Your work e-mail address"), max_length=254)


class OrganisationSsoForm(forms.Form):
    server_url = forms.CharField(
        label=_("Provider URL"),
        max_length=500,
        help_text=_(
            "The issuer, e.g. https://login.example.com/realms/acme "
            "(its /.well-known/openid-configuration is read)."
        ),
    )
    client_id = forms.CharField(label=_("Client id"), max_length=191)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=191,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored secret."),
    )
    domains = forms.CharField(
        label=_("E-mail domains"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Users with a verified address of these domains are signed in, e.g. acme.com, acme.nl."),
    )

    def clean_domains(self) -> list[str]:
        from accounts.sso import sso_domains_parse

        return sso_domains_parse(self.cleaned_data["domains"])


class StaffNotificationsForm(forms.Form):
    """The few notifications staff choose themselves (the RACI table decides the others)."""

    topics = forms.MultipleChoiceField(
        label=_("Send me e-mail about"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = [
            (topic, NotificationTopic(topic).label) for topic in subscribable_topics(user)
        ]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("The language of the pages after you log in and of the e-mails we send you."),
    )
